import assert from 'assert/strict';
import { encodeGif, lzwEncode } from '../../src/lib/display/gif';
import type { RgbImage } from '../../src/lib/display/image';
import { randomBytes } from './bytes';

function grayFrame(width: number, height: number, levels: Uint8Array): RgbImage {
  const data = new Uint8Array(width * height * 3);
  levels.forEach((v, p) => data.fill(v, p * 3, p * 3 + 3));
  return { width, height, data };
}

/** Test-only GIF LZW decoder: returns the pixel indices and how many clear codes it met. */
function lzwDecode(data: Uint8Array, minCodeSize: number): { indices: number[]; clears: number } {
  const clearCode = 1 << minCodeSize;
  const endCode = clearCode + 1;
  let bitPos = 0;
  const read = (width: number): number => {
    let code = 0;
    for (let i = 0; i < width; i++, bitPos++) {
      if (bitPos >> 3 >= data.length) throw new Error('LZW stream ended without an end code');
      code |= ((data[bitPos >> 3] >> (bitPos & 7)) & 1) << i;
    }
    return code;
  };
  let table: number[][] = [];
  let codeSize = minCodeSize + 1;
  let nextCode = endCode + 1;
  const reset = (): void => {
    table = [];
    for (let i = 0; i < clearCode; i++) table.push([i]);
    table.push([], []);
    codeSize = minCodeSize + 1;
    nextCode = endCode + 1;
  };
  reset();
  const indices: number[] = [];
  let clears = 0;
  let prev: number[] | undefined;
  for (;;) {
    const code = read(codeSize);
    if (code === clearCode) {
      reset();
      clears++;
      prev = undefined;
      continue;
    }
    if (code === endCode) break;
    let entry: number[];
    if (code < nextCode) entry = table[code];
    else if (code === nextCode && prev) entry = [...prev, prev[0]];
    else throw new Error(`LZW code ${code} is beyond the table (next ${nextCode})`);
    indices.push(...entry);
    if (prev && nextCode < 4096) {
      table[nextCode++] = [...prev, entry[0]];
      if (nextCode === 1 << codeSize && codeSize < 12) codeSize++;
    }
    prev = entry;
  }
  return { indices, clears };
}

interface ParsedGif {
  width: number;
  height: number;
  palette: Uint8Array;
  loops: boolean;
  delays: number[];
  frames: Array<{ indices: number[]; clears: number }>;
  trailerAt: number;
}

/** Walks the GIF block structure (so 0x2C bytes inside image data are not mistaken for descriptors). */
function parseGif(gif: Buffer): ParsedGif {
  assert.equal(gif.toString('latin1', 0, 6), 'GIF89a');
  const width = gif.readUInt16LE(6);
  const height = gif.readUInt16LE(8);
  const packed = gif[10];
  assert.ok(packed & 0x80, 'global colour table flag');
  const paletteSize = 3 * (1 << ((packed & 7) + 1));
  const palette = gif.subarray(13, 13 + paletteSize);
  let pos = 13 + paletteSize;
  const readSubBlocks = (): Buffer => {
    const parts: Buffer[] = [];
    for (;;) {
      const n = gif[pos++];
      if (n === 0) return Buffer.concat(parts);
      parts.push(gif.subarray(pos, pos + n));
      pos += n;
    }
  };
  const result: ParsedGif = { width, height, palette, loops: false, delays: [], frames: [], trailerAt: -1 };
  for (;;) {
    const block = gif[pos++];
    if (block === 0x3b) {
      result.trailerAt = pos - 1;
      return result;
    } else if (block === 0x21) {
      const label = gif[pos++];
      const body = readSubBlocks();
      if (label === 0xf9) result.delays.push(body.readUInt16LE(1));
      if (label === 0xff && body.toString('latin1', 0, 11) === 'NETSCAPE2.0') result.loops = true;
    } else if (block === 0x2c) {
      assert.equal(gif.readUInt16LE(pos + 4), width);
      assert.equal(gif.readUInt16LE(pos + 6), height);
      assert.equal(gif[pos + 8], 0, 'no local colour table, not interlaced');
      pos += 9;
      const minCodeSize = gif[pos++];
      result.frames.push(lzwDecode(readSubBlocks(), minCodeSize));
    } else {
      throw new Error(`unexpected block 0x${block.toString(16)} at ${pos - 1}`);
    }
  }
}

describe('display/gif', () => {
  it('writes a GIF89a header, a looping NETSCAPE2.0 block and the trailer', () => {
    const frames = [grayFrame(3, 2, randomBytes(6, 1)), grayFrame(3, 2, randomBytes(6, 2))];
    const gif = encodeGif(frames);
    assert.equal(gif.toString('latin1', 0, 6), 'GIF89a');
    assert.equal(gif[gif.length - 1], 0x3b);
    const parsed = parseGif(gif);
    assert.equal(parsed.trailerAt, gif.length - 1);
    assert.equal(parsed.width, 3);
    assert.equal(parsed.height, 2);
    assert.ok(parsed.loops);
    assert.equal(parseGif(encodeGif(frames, { loop: false })).loops, false);
  });

  it('writes one image descriptor per frame, with the requested delays', () => {
    const frames = [1, 2, 3, 4, 5].map((seed) => grayFrame(4, 4, randomBytes(16, seed)));
    const parsed = parseGif(encodeGif(frames, { delayMs: 50, lastFrameDelayMs: 2000 }));
    assert.equal(parsed.frames.length, 5);
    assert.deepEqual(parsed.delays, [5, 5, 5, 5, 200]);
    assert.deepEqual(parseGif(encodeGif(frames)).delays, [10, 10, 10, 10, 10]);
  });

  it('round-trips the pixels of a random 2-frame gray animation exactly (gray palette)', () => {
    const levels = [randomBytes(15 * 11, 10), randomBytes(15 * 11, 11)];
    const parsed = parseGif(encodeGif(levels.map((l) => grayFrame(15, 11, l))));
    for (let i = 0; i < 256; i++) assert.deepEqual(Array.from(parsed.palette.subarray(i * 3, i * 3 + 3)), [i, i, i]);
    assert.equal(parsed.frames.length, 2);
    parsed.frames.forEach((frame, f) => assert.deepEqual(frame.indices, Array.from(levels[f]), `frame ${f}`));
  });

  it('emits clear codes when the LZW table fills (more than 4096 codes) and still round-trips', () => {
    const levels = [randomBytes(100 * 100, 21), randomBytes(100 * 100, 22)];
    const parsed = parseGif(encodeGif(levels.map((l) => grayFrame(100, 100, l))));
    parsed.frames.forEach((frame, f) => {
      assert.ok(frame.clears >= 2, `frame ${f}: expected a clear code beyond the initial one, got ${frame.clears}`);
      assert.deepEqual(frame.indices, Array.from(levels[f]), `frame ${f}`);
    });
  });

  it('handles long runs (deep table entries) and small code sizes in lzwEncode', () => {
    const run = new Uint8Array(150 * 150).fill(7);
    assert.deepEqual(lzwDecode(lzwEncode(run, 8), 8).indices, Array.from(run));
    const small = Uint8Array.from(randomBytes(5000, 3), (b) => b & 3);
    const decoded = lzwDecode(lzwEncode(small, 2), 2);
    assert.deepEqual(decoded.indices, Array.from(small));
    assert.deepEqual(lzwDecode(lzwEncode(new Uint8Array(0), 8), 8).indices, []);
    assert.throws(() => lzwEncode(Uint8Array.from([4]), 2), /does not fit/);
  });

  it('maps colour frames to the nearest colour-cube entry', () => {
    const width = 8,
      height = 8;
    const frames = [31, 32].map((seed) => ({ width, height, data: randomBytes(width * height * 3, seed) }));
    const parsed = parseGif(encodeGif(frames));
    parsed.frames.forEach((frame, f) => {
      frame.indices.forEach((index, p) => {
        for (let c = 0; c < 3; c++) {
          const original = frames[f].data[p * 3 + c];
          const shown = parsed.palette[index * 3 + c];
          // Half a step of the 6-level (red, blue) or 7-level (green) ramp.
          const halfStep = 255 / (c === 1 ? 6 : 5) / 2;
          assert.ok(Math.abs(original - shown) <= halfStep + 0.5, `frame ${f} pixel ${p} channel ${c}: ${original} shown as ${shown}`);
        }
      });
    });
  });

  it('is deterministic', () => {
    const frames = [grayFrame(9, 9, randomBytes(81, 4)), { width: 9, height: 9, data: randomBytes(243, 5) }];
    assert.ok(encodeGif(frames).equals(encodeGif(frames)));
  });

  it('rejects frames of different sizes and an empty list', () => {
    assert.throws(() => encodeGif([grayFrame(2, 2, new Uint8Array(4)), grayFrame(3, 2, new Uint8Array(6))]), /same size/);
    assert.throws(() => encodeGif([]), /at least one frame/);
  });
});
