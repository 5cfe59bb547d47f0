import assert from 'assert/strict';
import { ImageDataset, subset, takePerClass } from '../../src/lib/data/dataset';

/** count 1x2 images whose pixels equal the image index, with the given labels. */
function dataset(labels: number[]): ImageDataset {
  const images = new Float32Array(labels.length * 2);
  labels.forEach((_, i) => images.fill(i, i * 2, i * 2 + 2));
  return { images, labels: Uint8Array.from(labels), count: labels.length, height: 1, width: 2, classes: ['x', 'y', 'z'] };
}

describe('data/dataset', () => {
  it('subset copies the chosen images and labels in order', () => {
    const ds = dataset([0, 1, 2, 0, 1]);
    const s = subset(ds, [4, 0]);
    assert.equal(s.count, 2);
    assert.deepEqual(Array.from(s.images), [4, 4, 0, 0]);
    assert.deepEqual(Array.from(s.labels), [1, 0]);
    assert.equal(s.classes, ds.classes);
    s.images[0] = 99;
    assert.equal(ds.images[8], 4, 'the subset is a copy');
  });

  it('takePerClass takes the first k of each class, class by class', () => {
    const ds = dataset([2, 0, 1, 0, 2, 1, 0, 2]);
    const s = takePerClass(ds, 2);
    assert.deepEqual(Array.from(s.labels), [0, 0, 1, 1, 2, 2]);
    assert.deepEqual(Array.from(s.images.filter((_, i) => i % 2 === 0)), [1, 3, 2, 5, 0, 4]);
    const only = takePerClass(ds, 1, [2, 1]);
    assert.deepEqual(Array.from(only.labels), [2, 1]);
    assert.deepEqual(Array.from(only.images), [0, 0, 2, 2]);
  });

  it('takePerClass says when a class is too small or unknown', () => {
    const ds = dataset([0, 0, 1]);
    assert.throws(() => takePerClass(ds, 2), /class 1 \(y\) has only 1 images but 2 were requested/);
    assert.throws(() => takePerClass(ds, 1, [3]), /class 3 does not exist/);
  });
});
