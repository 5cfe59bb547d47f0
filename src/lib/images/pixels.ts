import { requireBackend, tf } from '../backend/tf';

/**
 * A plain image on the CPU: row-major HWC floats in [0, 1]. Photos, sketches and a user's own
 * pictures are prepared as these and turned into model tensors [1, size, size, channels] in
 * [-1, 1] at the end (toModelInput).
 */
export interface Pixels {
  height: number;
  width: number;
  channels: number;
  data: Float32Array;
}

export function checkPixels(im: Pixels): void {
  const { height, width, channels, data } = im;
  if (![height, width, channels].every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`Image size must be positive integers, got ${height}x${width}x${channels}`);
  }
  if (data.length !== height * width * channels) {
    throw new Error(`Image data has ${data.length} values but ${height}x${width}x${channels} needs ${height * width * channels}`);
  }
}

/**
 * Resizes with area averaging when shrinking and bilinear interpolation when enlarging (per axis),
 * so downscaled photos do not alias and upscaled 28 px inputs stay smooth.
 */
export function resize(im: Pixels, height: number, width: number): Pixels {
  checkPixels(im);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new Error(`resize: target size must be positive integers, got ${height}x${width}`);
  }
  const rows = resampleAxis(im.height, height);
  const cols = resampleAxis(im.width, width);
  const c = im.channels;
  const out = new Float32Array(height * width * c);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (const [sy, wy] of rows[y]) {
        for (const [sx, wx] of cols[x]) {
          const w = wy * wx;
          const s = (sy * im.width + sx) * c;
          const d = (y * width + x) * c;
          for (let k = 0; k < c; k++) out[d + k] += w * im.data[s + k];
        }
      }
    }
  }
  return { height, width, channels: c, data: out };
}

/** For each output index along one axis: the source indices and weights (summing to 1). */
function resampleAxis(from: number, to: number): Array<Array<[number, number]>> {
  const scale = from / to;
  const taps: Array<Array<[number, number]>> = [];
  for (let i = 0; i < to; i++) {
    const list: Array<[number, number]> = [];
    if (scale > 1) {
      // Area: the source interval [i*scale, (i+1)*scale) weighted by overlap.
      const a = i * scale;
      const b = (i + 1) * scale;
      for (let s = Math.floor(a); s < Math.ceil(b); s++) {
        const overlap = Math.min(b, s + 1) - Math.max(a, s);
        if (overlap > 0) list.push([s, overlap / scale]);
      }
    } else {
      // Bilinear with pixel centres aligned (half-pixel convention), clamped at the borders.
      const pos = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), from - 1);
      const s0 = Math.floor(pos);
      const f = pos - s0;
      list.push([s0, 1 - f]);
      if (f > 0) list.push([Math.min(s0 + 1, from - 1), f]);
    }
    taps.push(list);
  }
  return taps;
}

/** The largest centred square (the crop that loses least when a picture is made square). */
export function centerCropSquare(im: Pixels): Pixels {
  checkPixels(im);
  const side = Math.min(im.height, im.width);
  const top = Math.floor((im.height - side) / 2);
  const left = Math.floor((im.width - side) / 2);
  const c = im.channels;
  const out = new Float32Array(side * side * c);
  for (let y = 0; y < side; y++) {
    const s = ((top + y) * im.width + left) * c;
    out.set(im.data.subarray(s, s + side * c), y * side * c);
  }
  return { height: side, width: side, channels: c, data: out };
}

/** Gray -> RGB by copying, RGB -> gray by luma (ITU-R BT.601 weights). */
export function toChannels(im: Pixels, channels: number): Pixels {
  checkPixels(im);
  if (im.channels === channels) return im;
  const n = im.height * im.width;
  const out = new Float32Array(n * channels);
  if (im.channels === 1 && channels === 3) {
    for (let i = 0; i < n; i++) out.fill(im.data[i], 3 * i, 3 * i + 3);
  } else if (im.channels === 3 && channels === 1) {
    for (let i = 0; i < n; i++) out[i] = 0.299 * im.data[3 * i] + 0.587 * im.data[3 * i + 1] + 0.114 * im.data[3 * i + 2];
  } else {
    throw new Error(`Cannot convert a ${im.channels}-channel image to ${channels} channels: Part A models use 1 (gray) or 3 (RGB)`);
  }
  return { height: im.height, width: im.width, channels, data: out };
}

/**
 * A [0, 1] image as a model input: square-cropped, resized to size x size, converted to the
 * model's channels, mapped to [-1, 1], shape [1, size, size, channels].
 */
export function toModelInput(im: Pixels, size: number, channels: number): tf.Tensor4D {
  requireBackend('A model input image');
  const square = centerCropSquare(im);
  const sized = square.height === size ? square : resize(square, size, size);
  const out = toChannels(sized, channels);
  const data = Float32Array.from(out.data, (v) => 2 * Math.min(1, Math.max(0, v)) - 1);
  return tf.tensor4d(data, [1, size, size, channels]);
}

/** The largest model input side the inputs make (IF stage II works at 256; 4096 leaves room). */
export const MAX_INPUT_SIZE = 4096;

export function checkSize(size: number, channels: number): void {
  if (!Number.isInteger(size) || size < 1 || size > MAX_INPUT_SIZE) {
    throw new Error(`Image size must be an integer from 1 to ${MAX_INPUT_SIZE} (the model's imageSize), got ${size}`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`Channels must be 1 (gray) or 3 (RGB) (the model's channels), got ${channels}`);
}
