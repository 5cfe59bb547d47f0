import { tf } from '../../lib/backend/tf';
import { hconcat, imageGrid } from '../../lib/display/grid';
import { FloatImages, RgbImage } from '../../lib/display/image';
import { cellScale, tensorImages } from '../../lib/display/tensor-grid';
import { resize } from '../../lib/images/pixels';

/** Part A's own figures, beyond the library's tensorGrid. */

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

/** A short label for an anagram view, for figure headers. */
export function viewLabel(view: string): string {
  return view === 'rotate180' ? 'rotated 180 deg' : view === 'flip' ? 'upside down' : view;
}
