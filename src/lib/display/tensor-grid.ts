import { tf } from '../backend/tf';
import { GridOptions, imageGrid } from './grid';
import { FloatImages, RgbImage } from './image';

/**
 * Model images (NHWC tensors in [-1, 1], gray or RGB) as labelled grids, with a cell size that
 * suits both 28 px and 64 px models.
 */

/** Images (one tensor or several stacked in order) as display data. */
export function tensorImages(images: tf.Tensor4D | readonly tf.Tensor4D[]): FloatImages {
  const list = Array.isArray(images) ? (images as readonly tf.Tensor4D[]) : [images as tf.Tensor4D];
  if (list.length === 0) throw new Error('tensorImages: give at least one image tensor');
  const [, height, width, channels] = list[0].shape;
  if (channels !== 1 && channels !== 3) throw new Error(`Images must have 1 or 3 channels, got ${channels}`);
  for (const t of list) {
    if (t.shape[1] !== height || t.shape[2] !== width || t.shape[3] !== channels) {
      throw new Error(`Images to show together must share a size: [${t.shape.join(', ')}] vs [_, ${height}, ${width}, ${channels}]`);
    }
  }
  const count = list.reduce((n, t) => n + t.shape[0], 0);
  const data = new Float32Array(count * height * width * channels);
  let at = 0;
  for (const t of list) {
    const v = t.dataSync() as Float32Array;
    data.set(v, at);
    at += v.length;
  }
  return { count, height, width, channels, data };
}

/** Nearest-neighbour scale giving cells of about 112 px: 4 at 28 px, 2 at 64 px. */
export function cellScale(imageSize: number): number {
  return Math.max(1, Math.round(112 / imageSize));
}

/** A labelled grid of model images in [-1, 1] (values outside are clipped). */
export function tensorGrid(images: tf.Tensor4D | readonly tf.Tensor4D[], opts: GridOptions = {}): RgbImage {
  const fi = tensorImages(images);
  return imageGrid(fi, { scale: cellScale(fi.height), range: [-1, 1], ...opts });
}

/** A 0/1 mask [H, W], [H, W, 1] or [B, H, W, 1] as images in [-1, 1] (white = 1 = new content), with `channels`. */
export function maskAsImages(mask: tf.Tensor, channels: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, w] = mask.rank === 4 ? mask.shape.slice(1, 3) : mask.shape.slice(0, 2);
    const m = tf.reshape(mask, [-1, h, w, 1]);
    return tf.sub(tf.mul(tf.tile(m, [1, 1, 1, channels]), 2), 1) as tf.Tensor4D;
  });
}

/**
 * Columns of images, each a batch [B, ...] of the same B rows, as one batch in row-major grid order
 * (row r = image r of every column), for tensorGrid({ cols: columns.length }).
 */
export function interleaveColumns(columns: readonly tf.Tensor4D[]): tf.Tensor4D {
  if (columns.length === 0) throw new Error('interleaveColumns: give at least one column');
  const [, h, w, c] = columns[0].shape;
  return tf.tidy(() => tf.reshape(tf.stack(columns as tf.Tensor4D[], 1), [-1, h, w, c]) as tf.Tensor4D);
}
