import assert from 'node:assert/strict';
import { imageGrid } from '../../../src/lib/display/grid';
import { DdpmSampleResult } from '../../../src/lib/sample';
import { samplesGrid } from '../../../src/writeup/figures/partb';

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
});
