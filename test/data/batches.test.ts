import assert from 'assert/strict';
import { gatherImages, gatherLabels, shuffledBatches } from '../../src/lib/data/batches';
import type { ImageDataset } from '../../src/lib/data/dataset';
import { Rng } from '../../src/lib/random';

/** count 2x2 images whose pixels all equal the image index / 100, labelled index % 3. */
function tinyDataset(count: number): ImageDataset {
  const images = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) images.fill(i / 100, i * 4, (i + 1) * 4);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { images, labels, count, height: 2, width: 2, classes: ['a', 'b', 'c'] };
}

describe('data/batches', () => {
  it('covers every index exactly once per epoch', () => {
    const rng = new Rng(7);
    for (let epoch = 0; epoch < 3; epoch++) {
      const batches = shuffledBatches(103, 10, rng);
      assert.deepEqual(
        batches.map((b) => b.length),
        [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3],
      );
      const seen = batches.flatMap((b) => Array.from(b)).sort((x, y) => x - y);
      assert.deepEqual(
        seen,
        Array.from({ length: 103 }, (_, i) => i),
      );
    }
  });

  it('drops the short last batch when asked', () => {
    const batches = shuffledBatches(103, 10, new Rng(7), { dropLast: true });
    assert.equal(batches.length, 10);
    const seen = new Set(batches.flatMap((b) => Array.from(b)));
    assert.equal(seen.size, 100);
    assert.deepEqual(shuffledBatches(5, 10, new Rng(1), { dropLast: true }), []);
    assert.equal(shuffledBatches(0, 10, new Rng(1)).length, 0);
  });

  it('is the same for the same seed and differs for another', () => {
    const a = shuffledBatches(50, 8, new Rng(42));
    const b = shuffledBatches(50, 8, new Rng(42));
    const c = shuffledBatches(50, 8, new Rng(43));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('successive epochs from one generator are shuffled differently', () => {
    const rng = new Rng(3);
    assert.notDeepEqual(shuffledBatches(50, 50, rng), shuffledBatches(50, 50, rng));
  });

  it('rejects a bad batch size', () => {
    assert.throws(() => shuffledBatches(10, 0, new Rng(1)), /batchSize must be a positive integer/);
    assert.throws(() => shuffledBatches(10, 2.5, new Rng(1)), /batchSize must be a positive integer/);
  });

  it('gathers images and labels in index order', () => {
    const ds = tinyDataset(10);
    const images = gatherImages(ds, Int32Array.from([7, 2, 7]));
    assert.equal(images.length, 12);
    assert.deepEqual(
      Array.from(images),
      [7, 7, 7, 7, 2, 2, 2, 2, 7, 7, 7, 7].map((v) => Math.fround(v / 100)),
    );
    assert.deepEqual(Array.from(gatherLabels(ds, [7, 2, 7])), [1, 2, 1]);
    assert.throws(() => gatherImages(ds, [10]), /index 10 is out of range for a dataset of 10 images/);
    assert.throws(() => gatherLabels(ds, [-1]), /index -1 is out of range/);
  });
});
