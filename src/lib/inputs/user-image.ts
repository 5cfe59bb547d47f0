import * as fs from 'fs';
import { tf } from '../backend/tf';
import * as jpeg from 'jpeg-js';
import { decodePng, MAX_PNG_PIXELS } from '../display/png';
import { Pixels, toModelInput } from './pixels';
import { checkSize } from './images';

/**
 * A user's own picture as a model input [1, size, size, channels] in [-1, 1]: centre-cropped to a
 * square, resized (area when shrinking, bilinear when enlarging) and converted to gray or RGB as
 * the model needs. PNG of every standard kind is decoded by the project's own decoder (1 to 16
 * bits, palette, interlaced; alpha is composited on black, the built-in digits model's
 * background), JPEG by jpeg-js; both refuse images of more than 50 million pixels.
 */
export function loadUserImage(file: string, size: number, channels = 1): tf.Tensor4D {
  checkSize(size, channels);
  if (!fs.existsSync(file)) throw new Error(`Image file ${file} does not exist; give the path of a PNG file`);
  return userImageFromBytes(fs.readFileSync(file), size, channels, file);
}

/** loadUserImage on the file's bytes. */
export function userImageFromBytes(bytes: Uint8Array, size: number, channels = 1, what = 'image'): tf.Tensor4D {
  checkSize(size, channels);
  const png = isJpeg(bytes) ? decodeJpeg(bytes, what) : decodePng(bytes);
  const n = png.width * png.height;
  const inC = png.channels;
  const hasAlpha = inC === 2 || inC === 4;
  const colour = inC >= 3 ? 3 : 1;
  const data = new Float32Array(n * colour);
  for (let i = 0; i < n; i++) {
    const alpha = hasAlpha ? png.data[i * inC + inC - 1] / 255 : 1;
    for (let k = 0; k < colour; k++) data[i * colour + k] = (png.data[i * inC + k] / 255) * alpha;
  }
  const im: Pixels = { height: png.height, width: png.width, channels: colour, data };
  return toModelInput(im, size, channels);
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** A JPEG as 8-bit RGBA, with the same pixel limit as decodePng. */
function decodeJpeg(bytes: Uint8Array, what: string): { width: number; height: number; channels: number; data: Uint8Array } {
  try {
    const im = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PNG_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
    return { width: im.width, height: im.height, channels: 4, data: im.data };
  } catch (err) {
    throw new Error(`${what} is a JPEG that cannot be decoded (${(err as Error).message}); re-save it, or convert it to PNG.`);
  }
}
