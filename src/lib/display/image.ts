/**
 * Plain pixel containers for the display helpers, and the conversions between them.
 * No tensors here: callers turn tensors into typed arrays first.
 */

/** An 8-bit RGB image: row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
  /**
   * What the picture shows, in words, for readers who cannot see it (the site's alt text).
   * Layout helpers fill it in from their labels; a notebook can pass its own.
   */
  description?: string;
}

/** A batch of float images in NHWC layout, as they come out of a model. */
export interface FloatImages {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  data: Float32Array;
}

export type Rgb = [number, number, number];

function assertPositiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${what} must be a positive integer, got ${value}`);
  }
}

/** Checks that a FloatImages' data length matches its shape. */
export function checkFloatImages(images: FloatImages): void {
  const { count, height, width, channels, data } = images;
  assertPositiveInt(height, 'FloatImages height');
  assertPositiveInt(width, 'FloatImages width');
  if (!Number.isInteger(count) || count < 0) throw new Error(`FloatImages count must be a non-negative integer, got ${count}`);
  if (channels !== 1 && channels !== 3) {
    throw new Error(`FloatImages channels must be 1 or 3, got ${channels}; convert RGBA or other layouts first`);
  }
  const expected = count * height * width * channels;
  if (data.length !== expected) {
    throw new Error(
      `FloatImages data has ${data.length} values but count*height*width*channels = ` +
        `${count}*${height}*${width}*${channels} = ${expected}; check the shape (NHWC expected)`,
    );
  }
}

/** A new image filled with one colour. */
export function blankImage(width: number, height: number, color: Rgb = [255, 255, 255]): RgbImage {
  assertPositiveInt(width, 'image width');
  assertPositiveInt(height, 'image height');
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = color[0];
    data[i + 1] = color[1];
    data[i + 2] = color[2];
  }
  return { width, height, data };
}

/** Fills a rectangle, clipped to the image. */
export function fillRect(img: RgbImage, x: number, y: number, w: number, h: number, color: Rgb): void {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + w));
  const y1 = Math.min(img.height, Math.floor(y + h));
  for (let row = y0; row < y1; row++) {
    for (let col = x0; col < x1; col++) {
      const o = (row * img.width + col) * 3;
      img.data[o] = color[0];
      img.data[o + 1] = color[1];
      img.data[o + 2] = color[2];
    }
  }
}

/** Copies `src` into `dst` with its top-left corner at (x, y), clipped to `dst`. */
export function blit(dst: RgbImage, src: RgbImage, x: number, y: number): void {
  x = Math.floor(x);
  y = Math.floor(y);
  const colStart = Math.max(0, -x);
  const colEnd = Math.min(src.width, dst.width - x);
  if (colEnd <= colStart) return;
  for (let row = 0; row < src.height; row++) {
    const dy = y + row;
    if (dy < 0 || dy >= dst.height) continue;
    const from = (row * src.width + colStart) * 3;
    const to = (row * src.width + colEnd) * 3;
    dst.data.set(src.data.subarray(from, to), (dy * dst.width + x + colStart) * 3);
  }
}

/**
 * Converts image `index` of a float batch to 8-bit RGB: values in `range` map linearly to 0..255
 * (rounded), values outside are clamped, NaN becomes 0, grayscale is replicated to all three channels.
 */
export function toRgb8(images: FloatImages, index: number, range: [number, number] = [0, 1]): RgbImage {
  checkFloatImages(images);
  const { count, height, width, channels, data } = images;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`image index ${index} is out of range: the batch holds ${count} images (0..${count - 1})`);
  }
  const [lo, hi] = range;
  if (!(hi > lo)) throw new Error(`display range [${lo}, ${hi}] is empty: pass [low, high] with high > low, e.g. [-1, 1]`);
  const scale = 255 / (hi - lo);
  const pixels = width * height;
  const base = index * pixels * channels;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      const v = data[base + p * channels + (channels === 1 ? 0 : c)];
      const byte = Math.round((v - lo) * scale);
      // NaN fails both comparisons below and falls through to 0.
      out[p * 3 + c] = byte >= 255 ? 255 : byte > 0 ? byte : 0;
    }
  }
  return { width, height, data: out };
}

/** Enlarges an image by an integer factor, each pixel becoming a factor x factor block (crisp edges). */
export function upscaleNearest(img: RgbImage, factor: number): RgbImage {
  assertPositiveInt(factor, 'upscale factor');
  if (factor === 1) return { width: img.width, height: img.height, data: img.data.slice() };
  const width = img.width * factor;
  const height = img.height * factor;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < img.height; y++) {
    // Build one enlarged row, then copy it `factor` times.
    const rowStart = y * factor * width * 3;
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      for (let k = 0; k < factor; k++) {
        const d = rowStart + (x * factor + k) * 3;
        data[d] = img.data[s];
        data[d + 1] = img.data[s + 1];
        data[d + 2] = img.data[s + 2];
      }
    }
    const row = data.subarray(rowStart, rowStart + width * 3);
    for (let k = 1; k < factor; k++) data.set(row, rowStart + k * width * 3);
  }
  return { width, height, data };
}
