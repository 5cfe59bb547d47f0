import { tf } from '../backend/tf';

/**
 * One-hot rows for class labels, each multiplied by `keep` (0 = the unconditional zero vector of
 * classifier-free guidance): the class-conditioned UNet's c, and the judge's training target.
 */
export function oneHot(labels: ArrayLike<number>, numClasses: number, keep?: ArrayLike<number>): tf.Tensor2D {
  const n = labels.length;
  const data = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new Error(`Unknown class ${c}: classes are 0..${numClasses - 1}`);
    }
    data[i * numClasses + c] = keep ? keep[i] : 1;
  }
  return tf.tensor2d(data, [n, numClasses]);
}
