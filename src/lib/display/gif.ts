/**
 * An animated GIF89a encoder for sequences of frames such as diffusion sampling trajectories.
 * One global 256-entry palette: an exact 256-level gray ramp when every frame is gray, otherwise a
 * fixed 6x7x6 colour cube (more green levels because the eye is most sensitive to green).
 * Deterministic: the same frames always give the same bytes.
 */
import type { RgbImage } from './image';

export interface GifOptions {
  /** Delay between frames in milliseconds (GIF stores hundredths of a second). Default 100. */
  delayMs?: number;
  /** Loop forever (NETSCAPE2.0 extension) when true; play once when false. Default true. */
  loop?: boolean;
  /** Delay after the last frame, e.g. to hold the final sample before looping. Default: delayMs. */
  lastFrameDelayMs?: number;
}

const CUBE_R = 6;
const CUBE_G = 7;
const CUBE_B = 6;
const MAX_CODES = 4096;

/** The 256 x RGB palette and the pixel-to-index mapping used for one animation. */
interface Palette {
  colors: Uint8Array; // 256 * 3 bytes
  indexOf(r: number, g: number, b: number): number;
}

function grayPalette(): Palette {
  const colors = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) colors.fill(i, i * 3, i * 3 + 3);
  return { colors, indexOf: (r) => r };
}

/** The 6x7x6 colour cube (252 colours); the last 4 entries stay black and unused. */
function colorCubePalette(): Palette {
  const colors = new Uint8Array(256 * 3);
  for (let r = 0; r < CUBE_R; r++) {
    for (let g = 0; g < CUBE_G; g++) {
      for (let b = 0; b < CUBE_B; b++) {
        const i = (r * CUBE_G + g) * CUBE_B + b;
        colors[i * 3] = Math.round((r * 255) / (CUBE_R - 1));
        colors[i * 3 + 1] = Math.round((g * 255) / (CUBE_G - 1));
        colors[i * 3 + 2] = Math.round((b * 255) / (CUBE_B - 1));
      }
    }
  }
  const indexOf = (r: number, g: number, b: number): number =>
    (Math.round((r * (CUBE_R - 1)) / 255) * CUBE_G + Math.round((g * (CUBE_G - 1)) / 255)) * CUBE_B + Math.round((b * (CUBE_B - 1)) / 255);
  return { colors, indexOf };
}

function isGray(frames: RgbImage[]): boolean {
  for (const frame of frames) {
    const d = frame.data;
    for (let i = 0; i < d.length; i += 3) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  }
  return true;
}

/** Collects variable-width codes least-significant bit first, as GIF requires. */
class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private bits = 0;

  write(code: number, width: number): void {
    this.acc |= code << this.bits;
    this.bits += width;
    while (this.bits >= 8) {
      this.bytes.push(this.acc & 0xff);
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  finish(): Uint8Array {
    if (this.bits > 0) this.bytes.push(this.acc & 0xff);
    this.acc = 0;
    this.bits = 0;
    return Uint8Array.from(this.bytes);
  }
}

/**
 * GIF-flavoured LZW: codes start at minCodeSize+1 bits and grow to 12; when the table is full
 * (4096 codes) a clear code is sent and the table restarts. Returns the packed code stream
 * (not yet split into sub-blocks). Exported for tests.
 */
export function lzwEncode(indices: Uint8Array, minCodeSize: number): Uint8Array {
  if (!Number.isInteger(minCodeSize) || minCodeSize < 2 || minCodeSize > 8) {
    throw new Error(`LZW minimum code size must be 2..8, got ${minCodeSize}`);
  }
  const clearCode = 1 << minCodeSize;
  const endCode = clearCode + 1;
  const out = new BitWriter();
  // Table entries are keyed by (prefix code, next index); a string's code is its prefix's code extended by one index.
  let table = new Map<number, number>();
  let codeSize = minCodeSize + 1;
  let nextCode = endCode + 1;

  out.write(clearCode, codeSize);
  if (indices.length === 0) {
    out.write(endCode, codeSize);
    return out.finish();
  }
  for (const index of indices) {
    if (index >= clearCode) throw new Error(`LZW: pixel index ${index} does not fit in ${minCodeSize} bits`);
  }

  let prefix = indices[0];
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i];
    const key = prefix * 256 + k;
    const found = table.get(key);
    if (found !== undefined) {
      prefix = found;
      continue;
    }
    out.write(prefix, codeSize);
    if (nextCode < MAX_CODES) {
      table.set(key, nextCode++);
      // The decoder adds this entry one code later, so it widens once nextCode passes 2^codeSize.
      if (nextCode > 1 << codeSize && codeSize < 12) codeSize++;
    } else {
      out.write(clearCode, codeSize);
      table = new Map();
      codeSize = minCodeSize + 1;
      nextCode = endCode + 1;
    }
    prefix = k;
  }
  out.write(prefix, codeSize);
  out.write(endCode, codeSize);
  return out.finish();
}

function u16(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff];
}

/** Splits data into GIF sub-blocks of at most 255 bytes, ending with a zero-length block. */
function subBlocks(data: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const piece = data.subarray(i, Math.min(i + 255, data.length));
    parts.push(Buffer.from([piece.length]), Buffer.from(piece));
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function centiseconds(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`encodeGif: ${what} must be a non-negative number of milliseconds, got ${ms}`);
  return Math.min(0xffff, Math.round(ms / 10));
}

/** Encodes frames (all the same size) as an animated GIF89a. */
export function encodeGif(frames: RgbImage[], opts: GifOptions = {}): Buffer {
  if (frames.length === 0) throw new Error('encodeGif needs at least one frame');
  const { width, height } = frames[0];
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0xffff || height > 0xffff) {
    throw new Error(`encodeGif: frame size must be 1..65535 pixels per side, got ${width}x${height}`);
  }
  frames.forEach((frame, i) => {
    if (frame.width !== width || frame.height !== height) {
      throw new Error(
        `encodeGif: frame ${i} is ${frame.width}x${frame.height} but frame 0 is ${width}x${height}; ` +
          'all frames must have the same size (pad or resize them first)',
      );
    }
    if (frame.data.length !== width * height * 3) {
      throw new Error(`encodeGif: frame ${i} has ${frame.data.length} bytes, expected ${width * height * 3} (RGB)`);
    }
  });
  const delay = centiseconds(opts.delayMs ?? 100, 'delayMs');
  const lastDelay = centiseconds(opts.lastFrameDelayMs ?? opts.delayMs ?? 100, 'lastFrameDelayMs');
  const loop = opts.loop ?? true;

  const palette = isGray(frames) ? grayPalette() : colorCubePalette();
  const parts: Buffer[] = [];
  parts.push(Buffer.from('GIF89a', 'latin1'));
  // Logical screen descriptor: global colour table present, 8 bits of colour resolution, 2^(7+1) = 256 entries.
  parts.push(Buffer.from([...u16(width), ...u16(height), 0xf7, 0, 0]));
  parts.push(Buffer.from(palette.colors));
  if (loop) {
    // NETSCAPE2.0 application extension; loop count 0 means forever.
    parts.push(Buffer.from([0x21, 0xff, 11, ...Buffer.from('NETSCAPE2.0', 'latin1'), 3, 1, ...u16(0), 0]));
  }

  const indices = new Uint8Array(width * height);
  frames.forEach((frame, f) => {
    const d = frame.data;
    for (let p = 0; p < indices.length; p++) indices[p] = palette.indexOf(d[p * 3], d[p * 3 + 1], d[p * 3 + 2]);
    const frameDelay = f === frames.length - 1 ? lastDelay : delay;
    // Graphic control extension: disposal 1 (leave in place), no transparency.
    parts.push(Buffer.from([0x21, 0xf9, 4, 1 << 2, ...u16(frameDelay), 0, 0]));
    // Image descriptor covering the whole screen, no local colour table, not interlaced.
    parts.push(Buffer.from([0x2c, ...u16(0), ...u16(0), ...u16(width), ...u16(height), 0]));
    parts.push(Buffer.from([8]), subBlocks(lzwEncode(indices, 8)));
  });
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}
