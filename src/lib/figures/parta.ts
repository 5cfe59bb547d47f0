import { tf } from '../backend/tf';
import { GridOptions, hconcat, imageGrid } from '../display/grid';
import { FloatImages, RgbImage } from '../display/image';
import { resize } from '../inputs/pixels';
import { ProgressCallback } from '../progress';

/**
 * Figure helpers for Part A's notebooks: model images (NHWC tensors in [-1, 1], gray or RGB) as
 * labelled grids, with a cell size that suits both 28 px and 64 px models.
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
export function partAGrid(images: tf.Tensor4D | readonly tf.Tensor4D[], opts: GridOptions = {}): RgbImage {
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
 * SPEC 1.9's viewing distance: the same hybrids (one per row) up close (large cells), at half
 * that size, and "from far" (a quarter, area-averaged so the fine detail vanishes), side by side.
 * (An eighth was 14 px for the colour model: too small to see what the low frequencies draw.)
 */
export function nearAndFar(images: tf.Tensor4D, labels: { near: string; far: string }): RgbImage {
  const fi = tensorImages(images);
  const nearPx = fi.height * cellScale(fi.height);
  const near = imageGrid(fi, { scale: cellScale(fi.height), range: [-1, 1], cols: 1, colLabels: [labels.near] });
  // Each smaller view sits centred in a white cell as large as a near cell, so the rows line up.
  const smaller = (px: number, label: string): RgbImage => {
    const per = fi.height * fi.width * fi.channels;
    const c = fi.channels;
    const data = new Float32Array(fi.count * nearPx * nearPx * c).fill(1);
    const off = Math.floor((nearPx - px) / 2);
    for (let i = 0; i < fi.count; i++) {
      const im = { height: fi.height, width: fi.width, channels: c, data: fi.data.subarray(i * per, (i + 1) * per) };
      const r = resize(im, px, px).data;
      for (let y = 0; y < px; y++) {
        data.set(r.subarray(y * px * c, (y + 1) * px * c), ((i * nearPx + off + y) * nearPx + off) * c);
      }
    }
    const framed: FloatImages = { count: fi.count, height: nearPx, width: nearPx, channels: c, data };
    return imageGrid(framed, { scale: 1, range: [-1, 1], cols: 1, colLabels: [label] });
  };
  return hconcat([near, smaller(Math.max(4, Math.round(nearPx / 2)), 'farther'), smaller(Math.max(4, Math.round(nearPx / 4)), labels.far)], 16);
}

/**
 * Adapts a progress callback (e.g. the notebook's live progress line) to the pipelines' onStep,
 * with elapsed time, rate, ETA and the timestep reached (when the loop passes it; Part B's sampler does not).
 */
export function stepProgress(onProgress: ProgressCallback, phase = 'denoising'): (done: number, total: number, t?: number) => void {
  let start = 0;
  return (done, total, t) => {
    const now = Date.now();
    if (done <= 1 || start === 0) start = now - 1;
    const elapsedSec = (now - start) / 1000;
    const rate = elapsedSec > 0 ? done / elapsedSec : 0;
    onProgress({ phase, done, total, elapsedSec, rate, etaSec: rate > 0 ? (total - done) / rate : null, info: t === undefined ? undefined : { t } });
  };
}

/**
 * Columns of images, each a batch [B, ...] of the same B rows, as one batch in row-major grid order
 * (row r = image r of every column), for partAGrid({ cols: columns.length }).
 */
export function interleaveColumns(columns: readonly tf.Tensor4D[]): tf.Tensor4D {
  if (columns.length === 0) throw new Error('interleaveColumns: give at least one column');
  const [, h, w, c] = columns[0].shape;
  return tf.tidy(() => tf.reshape(tf.stack(columns as tf.Tensor4D[], 1), [-1, h, w, c]) as tf.Tensor4D);
}

/** A short label for an anagram view, for figure headers. */
export function viewLabel(view: string): string {
  return view === 'rotate180' ? 'rotated 180 deg' : view === 'flip' ? 'upside down' : view;
}
