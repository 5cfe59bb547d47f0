/**
 * A small PNG encoder and decoder for 8-bit, non-interlaced images.
 * The encoder is deterministic: the same pixels always give the same bytes (fixed filter, fixed
 * deflate level), so written figures only change when their content does.
 */
import * as zlib from 'zlib';
import type { RgbImage } from './image';

export type PngChannels = 1 | 2 | 3 | 4;

/** Pixels with an explicit channel count: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; row-major, 8 bits each. */
export interface PixelImage {
  width: number;
  height: number;
  channels: PngChannels;
  data: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DEFLATE_LEVEL = 9;

/** PNG colour type for each channel count, and back. */
const COLOR_TYPE_OF_CHANNELS: Record<PngChannels, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const CHANNELS_OF_COLOR_TYPE: Record<number, PngChannels> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as PNG uses it) of the given bytes. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + body.length), 8 + body.length);
  return out;
}

/** Encodes an RGB image, or pixels with 1 to 4 channels, as a PNG file. */
export function encodePng(img: RgbImage | PixelImage): Buffer {
  const channels: PngChannels = 'channels' in img ? img.channels : 3;
  const { width, height, data } = img;
  if (!(channels in COLOR_TYPE_OF_CHANNELS)) throw new Error(`encodePng: channels must be 1, 2, 3 or 4, got ${channels}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: image size must be positive integers, got ${width}x${height}`);
  }
  const stride = width * channels;
  if (data.length !== stride * height) {
    throw new Error(`encodePng: data has ${data.length} bytes but ${width}x${height}x${channels} needs ${stride * height}; check width, height and channels`);
  }

  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE_OF_CHANNELS[channels];
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method 0
  header[12] = 0; // not interlaced

  // Every row uses filter type 0 (None): simple and deterministic.
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const compressed = zlib.deflateSync(raw, { level: DEFLATE_LEVEL });

  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', compressed), chunk('IEND', new Uint8Array(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

/** Undoes the per-row filters; returns the pixel rows without their filter bytes. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride; // only read when y > 0
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i];
      const a = i >= bpp ? out[row + i - bpp] : 0;
      const b = y > 0 ? out[prev + i] : 0;
      const c = y > 0 && i >= bpp ? out[prev + i - bpp] : 0;
      let value: number;
      switch (filter) {
        case 0:
          value = x;
          break;
        case 1:
          value = x + a;
          break;
        case 2:
          value = x + b;
          break;
        case 3:
          value = x + ((a + b) >> 1);
          break;
        case 4:
          value = x + paeth(a, b, c);
          break;
        default:
          throw new Error(`PNG row ${y} has unknown filter type ${filter}: the image data is corrupt; re-save or re-download the file`);
      }
      out[row + i] = value & 0xff;
    }
  }
  return out;
}

/** Bit depths each colour type allows (PNG specification, table 11.1). */
const BIT_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7: Array<[number, number, number, number]> = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** The most pixels decodePng accepts (a 7000x7000 photo; far more than any model input). */
export const MAX_PNG_PIXELS = 50_000_000;

/**
 * Decodes a PNG of any standard kind: colour type 0 (gray), 2 (RGB), 3 (palette, expanded to RGB),
 * 4 (gray+alpha) or 6 (RGBA), 1 to 16 bits per sample, plain or interlaced (Adam7), to 8 bits per
 * sample. Transparency chunks (tRNS) and colour profiles are ignored.
 */
export function decodePng(buf: Uint8Array, opts: { maxBytes?: number; maxPixels?: number } = {}): PixelImage {
  if (buf.length < SIGNATURE.length || !SIGNATURE.equals(buf.subarray(0, SIGNATURE.length))) {
    throw new Error('not a PNG file: the 8-byte PNG signature is missing; check the path, or convert the image to PNG');
  }
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);

  let header: { width: number; height: number; bitDepth: number; colorType: number; interlace: number } | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let sawEnd = false;

  let pos = SIGNATURE.length;
  while (pos < view.length && !sawEnd) {
    if (pos + 8 > view.length) {
      throw new Error(`PNG is truncated: a chunk header at byte ${pos} is cut off (file has ${view.length} bytes); re-save or re-download the file`);
    }
    const length = view.readUInt32BE(pos);
    const type = view.toString('latin1', pos + 4, pos + 8);
    const bodyStart = pos + 8;
    const bodyEnd = bodyStart + length;
    if (bodyEnd + 4 > view.length) {
      throw new Error(
        `PNG is truncated: chunk '${type}' at byte ${pos} needs ${length + 12} bytes but only ${view.length - pos} remain; ` +
          're-save or re-download the file',
      );
    }
    const stored = view.readUInt32BE(bodyEnd);
    const computed = crc32(view, pos + 4, bodyEnd);
    if (stored !== computed) {
      throw new Error(
        `PNG chunk '${type}' at byte ${pos} has a bad CRC (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}): ` +
          'the file is corrupt; re-save or re-download it',
      );
    }
    const body = view.subarray(bodyStart, bodyEnd);
    if (type === 'IHDR') {
      if (length !== 13) throw new Error(`PNG IHDR chunk has length ${length}, expected 13: the file is corrupt`);
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8],
        colorType: body[9],
        interlace: body[12],
      };
    } else if (!header) {
      throw new Error(`PNG has chunk '${type}' before IHDR: the file is corrupt; re-save it`);
    } else if (type === 'PLTE') {
      if (length % 3 !== 0 || length === 0) throw new Error(`PNG PLTE chunk has length ${length}, not a positive multiple of 3: the file is corrupt`);
      palette = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      sawEnd = true;
    } else if ((type.charCodeAt(0) & 0x20) === 0) {
      // An uppercase first letter marks a critical chunk: we must not ignore it.
      throw new Error(`PNG has critical chunk '${type}', which decodePng does not support; re-save the image as a plain 8-bit PNG`);
    }
    pos = bodyEnd + 4;
  }
  if (!header) throw new Error('PNG is truncated: no IHDR chunk found; re-save or re-download the file');
  if (!sawEnd) throw new Error('PNG is truncated: the IEND chunk is missing; re-save or re-download the file');

  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = CHANNELS_OF_COLOR_TYPE[colorType];
  if (channels === undefined) throw new Error(`PNG has invalid colour type ${colorType}: the file is corrupt; re-save it`);
  if (!BIT_DEPTHS[colorType].includes(bitDepth)) {
    throw new Error(
      `PNG colour type ${colorType} cannot have ${bitDepth}-bit samples (allowed: ${BIT_DEPTHS[colorType].join(', ')}): the file is corrupt; re-save it`,
    );
  }
  if (interlace !== 0 && interlace !== 1) throw new Error(`PNG has unknown interlace method ${interlace}: the file is corrupt; re-save it`);
  if (width < 1 || height < 1) throw new Error(`PNG has invalid size ${width}x${height}: the file is corrupt`);
  if (colorType === 3 && !palette) throw new Error('PNG uses a palette (colour type 3) but has no PLTE chunk: the file is corrupt');
  if (idat.length === 0) throw new Error('PNG has no IDAT chunk (no image data): the file is truncated or corrupt; re-save it');

  // Decompression bombs: refuse sizes no input needs before allocating, and stop inflating at the
  // bytes the declared size needs (a tiny file can otherwise inflate to gigabytes).
  const maxPixels = Math.min(MAX_PNG_PIXELS, opts.maxPixels ?? Infinity);
  if (width * height > maxPixels) {
    throw new Error(
      `PNG declares ${width}x${height} pixels, more than the ${Number((maxPixels / 1e6).toFixed(1))} million ${maxPixels < MAX_PNG_PIXELS ? 'allowed here' : 'this decoder accepts'}: ` +
        'scale the image down first (the models work at 28 to 256 pixels)',
    );
  }
  const bitsPerPixel = channels * bitDepth;
  const rowBytes = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  // Adam7 stores seven reduced images; a plain PNG one image.
  const passes = (interlace === 1 ? ADAM7 : [[0, 0, 1, 1]])
    .map(([x0, y0, dx, dy]) => ({
      x0,
      y0,
      dx,
      dy,
      w: Math.ceil((width - x0) / dx),
      h: Math.ceil((height - y0) / dy),
    }))
    .filter((p) => p.w > 0 && p.h > 0);
  const expected = passes.reduce((n, p) => n + (rowBytes(p.w) + 1) * p.h, 0);
  // A caller's own limit on decoded bytes (the inflated data, and the 8-bit pixels made of it).
  const decoded = Math.max(expected, width * height * (colorType === 3 ? 3 : channels));
  if (opts.maxBytes !== undefined && decoded > opts.maxBytes) {
    throw new Error(
      `PNG declares ${width}x${height} pixels of ${bitsPerPixel} bits, ${(decoded / 2 ** 20).toFixed(0)} MiB decoded, more than the ` +
        `${(opts.maxBytes / 2 ** 20).toFixed(0)} MiB allowed here: scale the image down first (the models work at 28 to 256 pixels)`,
    );
  }
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(
        `PNG image data inflates to more than the ${expected} bytes its ${width}x${height} size needs: the file is corrupt or hostile; re-save it`,
        { cause: err },
      );
    }
    throw new Error(`PNG image data cannot be decompressed (${(err as Error).message}): the file is truncated or corrupt; re-save or re-download it`, {
      cause: err,
    });
  }
  if (raw.length < expected) {
    throw new Error(`PNG image data is truncated: expected ${expected} bytes after decompression, found ${raw.length}; re-save or re-download the file`);
  }
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const pixels =
    bitDepth === 8 && interlace === 0
      ? unfilter(raw, height, width * channels, bpp) // the common case: the rows are the pixels
      : unpackPasses(raw, passes, rowBytes, width, height, channels, bitDepth, bpp, colorType !== 3);
  if (colorType !== 3) return { width, height, channels, data: pixels };

  // Expand palette indices to RGB.
  const pal = palette as Uint8Array;
  const entries = pal.length / 3;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < pixels.length; p++) {
    const index = pixels[p];
    if (index >= entries) {
      throw new Error(`PNG pixel ${p} uses palette index ${index} but the palette has only ${entries} entries: the file is corrupt`);
    }
    rgb[p * 3] = pal[index * 3];
    rgb[p * 3 + 1] = pal[index * 3 + 1];
    rgb[p * 3 + 2] = pal[index * 3 + 2];
  }
  return { width, height, channels: 3, data: rgb };
}

/**
 * Adam7 passes or bit depths other than 8: unfilter each pass, then read its samples as 8-bit
 * values into place (16-bit: the high byte, as libpng's strip_16; 1, 2 and 4-bit gray scaled to
 * 0..255 when `scaleLowBits`, palette indices as they are).
 */
function unpackPasses(
  raw: Uint8Array,
  passes: Array<{ x0: number; y0: number; dx: number; dy: number; w: number; h: number }>,
  rowBytes: (w: number) => number,
  width: number,
  height: number,
  channels: number,
  bitDepth: number,
  bpp: number,
  scaleLowBits: boolean,
): Uint8Array {
  const pixels = new Uint8Array(width * height * channels);
  const maxSample = (1 << bitDepth) - 1;
  let offset = 0;
  for (const p of passes) {
    const rb = rowBytes(p.w);
    const rows = unfilter(raw.subarray(offset, offset + (rb + 1) * p.h), p.h, rb, bpp);
    offset += (rb + 1) * p.h;
    for (let y = 0; y < p.h; y++) {
      for (let x = 0; x < p.w; x++) {
        const dest = ((p.y0 + y * p.dy) * width + p.x0 + x * p.dx) * channels;
        for (let c = 0; c < channels; c++) {
          const k = x * channels + c;
          let v: number;
          if (bitDepth === 8) v = rows[y * rb + k];
          else if (bitDepth === 16) v = rows[y * rb + 2 * k];
          else {
            const bit = k * bitDepth;
            v = (rows[y * rb + (bit >> 3)] >> (8 - bitDepth - (bit & 7))) & maxSample;
            if (scaleLowBits) v = Math.round((v * 255) / maxSample);
          }
          pixels[dest + c] = v;
        }
      }
    }
  }
  return pixels;
}
