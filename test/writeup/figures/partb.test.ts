import assert from 'node:assert/strict';
import { imageGrid } from '../../../src/lib/display/grid';
import { DdpmSampleResult } from '../../../src/lib/sample';
import { guidanceRowsGrid, samplesGrid } from '../../../src/writeup/figures/partb';
import { getProfile, samplingFor } from '../../../src/writeup/profiles';

/** `count` 4x4 samples, each filled with its own index / count. */
function fakeSamples(count: number): DdpmSampleResult {
  const images = new Float32Array(count * 16);
  for (let i = 0; i < count; i++) images.fill(i / count, i * 16, (i + 1) * 16);
  return { images, count, size: 4, channels: 1, steps: 10, frames: [] };
}

describe('Part B figures', () => {
  it('samplesGrid shows the first samples already drawn, in rows of 10', () => {
    const result = fakeSamples(50);
    const grid = samplesGrid(result, { count: 40, title: 'epoch 3' });
    const first40 = imageGrid({ count: 40, height: 4, width: 4, channels: 1, data: result.images.slice(0, 40 * 16) }, { cols: 10, title: 'epoch 3' });
    const last40 = imageGrid({ count: 40, height: 4, width: 4, channels: 1, data: result.images.slice(10 * 16) }, { cols: 10, title: 'epoch 3' });
    assert.deepEqual([grid.width, grid.height], [first40.width, first40.height]);
    assert.ok(Buffer.from(grid.data).equals(Buffer.from(first40.data)));
    assert.ok(!Buffer.from(grid.data).equals(Buffer.from(last40.data)));
  });

  it('samplesGrid shows all of a smaller run', () => {
    const result = fakeSamples(12);
    const grid = samplesGrid(result);
    const all = imageGrid({ count: 12, height: 4, width: 4, channels: 1, data: result.images }, { cols: 10 });
    assert.ok(Buffer.from(grid.data).equals(Buffer.from(all.data)));
  });

  it('guidanceRowsGrid: a row per scale, each the first sample of every digit', () => {
    // 10 digits x 3 samples each, grouped by digit as evaluateDdpm draws them.
    const a = fakeSamples(30);
    const b = fakeSamples(30);
    b.images.fill(0.5);
    const grid = guidanceRowsGrid([
      { guidance: 1, samples: a, perClass: 3 },
      { guidance: 5, samples: b, perClass: 3 },
    ]);
    const firsts = new Float32Array(20 * 16);
    for (let d = 0; d < 10; d++) firsts.set(a.images.subarray(d * 3 * 16, (d * 3 + 1) * 16), d * 16);
    firsts.fill(0.5, 10 * 16);
    const colLabels = Array.from({ length: 10 }, (_, d) => String(d));
    const expected = imageGrid({ count: 20, height: 4, width: 4, channels: 1, data: firsts }, { cols: 10, colLabels, rowLabels: ['gamma 1', 'gamma 5'] });
    assert.ok(Buffer.from(grid.data).equals(Buffer.from(expected.data)));
    assert.throws(
      () =>
        guidanceRowsGrid([
          { guidance: 1, samples: a, perClass: 3 },
          { guidance: 2, samples: fakeSamples(20), perClass: 3 },
        ]),
      /every row needs 10 digits/,
    );
  });

  it("samplingFor: the profile's steps for the run's kind, never more than the run's T, and the run's pixel range", () => {
    const quick = getProfile('quick');
    assert.equal(samplingFor(quick, { kind: 'time', T: 300, pixelRange: 'symmetric' }).steps, 100);
    assert.equal(samplingFor(quick, { kind: 'class', T: 300, pixelRange: 'unit' }).steps, 50);
    assert.equal(samplingFor(quick, { kind: 'time', T: 50, pixelRange: 'unit' }).steps, 50);
    assert.equal(samplingFor(quick, { kind: 'class', T: 20, pixelRange: 'unit' }).steps, 20);
    const full = samplingFor(getProfile('full'), { kind: 'class', T: 300, pixelRange: 'unit' });
    assert.deepEqual([full.steps, full.pixelRange, full.schedule.T], [300, 'unit', 300]);
  });
});
