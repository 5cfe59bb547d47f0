import * as fs from 'fs';
import { tf } from '../backend/tf';
import * as jpeg from 'jpeg-js';
import { decodePng } from '../display/png';
import { checkSize, Pixels, toModelInput } from './pixels';

/**
 * A user's own picture as a model input [1, size, size, channels] in [-1, 1]: centre-cropped to a
 * square, resized (area when shrinking, bilinear when enlarging) and converted to gray or RGB as
 * the model needs. PNG of every standard kind is decoded by the project's own decoder (1 to 16
 * bits, palette, interlaced; alpha is composited on black, the built-in digits model's
 * background), JPEG by jpeg-js. Both are refused from their headers, before decoding, when they
 * have more than 4096x4096 pixels or would decode to more than MAX_USER_IMAGE_BYTES (the models
 * take at most 64x64 here), so a small hostile file cannot cost seconds and gigabytes.
 */
export function loadUserImage(file: string, size: number, channels = 1): tf.Tensor4D {
  checkSize(size, channels);
  if (!fs.existsSync(file)) throw new Error(`Image file ${file} does not exist; give the path of a PNG or JPEG file`);
  if (fs.statSync(file).isDirectory()) throw new Error(`${file} is a folder, not an image: give the path of a PNG or JPEG file`);
  return userImageFromBytes(fs.readFileSync(file), size, channels, file);
}

/** loadUserImage on the file's bytes. */
export function userImageFromBytes(bytes: Uint8Array, size: number, channels = 1, what = 'image'): tf.Tensor4D {
  checkSize(size, channels);
  const png = isJpeg(bytes) ? decodeJpeg(bytes, what) : decodePng(bytes, { maxBytes: MAX_USER_IMAGE_BYTES, maxPixels: MAX_USER_IMAGE_PIXELS });
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

/** The most bytes a user's image may decode to (64 MiB: 4096x4096 RGBA at 8 bits), and the most pixels. */
export const MAX_USER_IMAGE_BYTES = 64 * 2 ** 20;
export const MAX_USER_IMAGE_PIXELS = 4096 * 4096;

/**
 * A JPEG's size from its frame header (SOF), and whether a scan (the image data) follows; null
 * when there is no frame header. Read before decoding, to refuse what should not be decoded.
 */
export function jpegHeader(bytes: Uint8Array): { width: number; height: number; hasScan: boolean } | null {
  let frame: { width: number; height: number } | null = null;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return frame && { ...frame, hasScan: false };
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2;
      continue;
    } // no length
    if (marker === 0xda) return frame && { ...frame, hasScan: true }; // start of scan
    if (marker === 0xd9) break; // end of image
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    // SOF0..SOF15 carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && pos + 9 <= bytes.length) {
      frame = { height: (bytes[pos + 5] << 8) | bytes[pos + 6], width: (bytes[pos + 7] << 8) | bytes[pos + 8] };
    }
    pos += 2 + length;
  }
  return frame && { ...frame, hasScan: false };
}

/** A JPEG as 8-bit RGBA, its size checked first against MAX_USER_IMAGE_BYTES. */
function decodeJpeg(bytes: Uint8Array, what: string): { width: number; height: number; channels: number; data: Uint8Array } {
  const header = jpegHeader(bytes);
  if (!header) throw new Error(`${what} is a JPEG without a frame header (no image size): the file is damaged or cut short; re-save it`);
  const decoded = header.width * header.height * 4;
  if (decoded > MAX_USER_IMAGE_BYTES) {
    throw new Error(
      `${what} is a JPEG of ${header.width}x${header.height} pixels, ${(decoded / 2 ** 20).toFixed(0)} MiB decoded, more than the ` +
        `${MAX_USER_IMAGE_BYTES / 2 ** 20} MiB allowed here: scale it down first (the models work at 28 to 256 pixels)`,
    );
  }
  if (header.width === 0 || header.height === 0)
    throw new Error(`${what} is a JPEG of ${header.width}x${header.height} pixels: the file is damaged; re-save it`);
  if (!header.hasScan) throw new Error(`${what} is a JPEG with no image data (no start-of-scan segment): the file is cut short or damaged; re-save it`);
  try {
    const im = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: (2 * MAX_USER_IMAGE_BYTES) / 2 ** 20 });
    return { width: im.width, height: im.height, channels: 4, data: im.data };
  } catch (err) {
    throw new Error(`${what} is a JPEG that cannot be decoded (${(err as Error).message}); re-save it, or convert it to PNG.`, { cause: err });
  }
}
