import * as fs from 'fs';
import { tf } from '../backend/tf';
import { decodePng } from '../display/png';
import { Pixels, toModelInput } from './pixels';
import { checkSize } from './images';

/**
 * A user's own picture as a model input [1, size, size, channels] in [-1, 1]: centre-cropped to a
 * square, resized (area when shrinking, bilinear when enlarging) and converted to gray or RGB as
 * the model needs. PNG is decoded by the project's own decoder (gray, gray+alpha, RGB, RGBA;
 * alpha is composited on black, the built-in model's background). JPEG would need a decoder
 * package such as sharp or jpeg-js, which the project does not ship: convert it to PNG first.
 */
export function loadUserImage(file: string, size: number, channels = 1): tf.Tensor4D {
  checkSize(size, channels);
  if (!fs.existsSync(file)) throw new Error(`Image file ${file} does not exist; give the path of a PNG file`);
  return userImageFromBytes(fs.readFileSync(file), size, channels, file);
}

/** loadUserImage on the file's bytes. */
export function userImageFromBytes(bytes: Uint8Array, size: number, channels = 1, what = 'image'): tf.Tensor4D {
  checkSize(size, channels);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    throw new Error(
      `${what} is a JPEG, which this library cannot decode (it has a PNG decoder only; JPEG would need a package such as sharp). ` +
        'Convert it to PNG first, e.g. `convert photo.jpg photo.png` (ImageMagick) or any image editor.',
    );
  }
  const png = decodePng(bytes);
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
