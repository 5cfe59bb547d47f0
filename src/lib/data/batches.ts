import type { Rng } from '../random';
import type { ImageDataset, Labels } from './dataset';

/**
 * One epoch of mini-batches: a random permutation of 0..count-1 cut into batches of
 * `batchSize`. Every index appears exactly once; the last batch is smaller when batchSize does
 * not divide count, unless `dropLast` is set, in which case it is left out (and an epoch with
 * count < batchSize has no batches).
 */
export function shuffledBatches(count: number, batchSize: number, rng: Rng, opts: { dropLast?: boolean } = {}): Int32Array[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`shuffledBatches: count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`shuffledBatches: batchSize must be a positive integer, got ${batchSize}`);
  }
  const order = rng.permutation(count);
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    if (opts.dropLast && end - start < batchSize) break;
    batches.push(order.slice(start, end));
  }
  return batches;
}

function checkIndex(ds: ImageDataset, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
    throw new Error(`index ${index} is out of range for a dataset of ${ds.count} images`);
  }
}

/** The pixels of the images at `indices`, packed one after another (indices.length * H * W * C). */
export function gatherImages(ds: ImageDataset, indices: ArrayLike<number>): Float32Array {
  const size = ds.height * ds.width * (ds.channels ?? 1);
  const out = new Float32Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    checkIndex(ds, i);
    out.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
  }
  return out;
}

/** The labels of the images at `indices`, in that order. */
export function gatherLabels(ds: ImageDataset, indices: ArrayLike<number>): Labels {
  const out = ds.labels instanceof Uint16Array ? new Uint16Array(indices.length) : new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    checkIndex(ds, indices[k]);
    out[k] = ds.labels[indices[k]];
  }
  return out;
}
