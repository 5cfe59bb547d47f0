import sharp from 'sharp';
import assert from 'assert/strict';
import * as zlib from 'zlib';
import { crc32, decodePng, encodePng, type PixelImage } from '../../src/lib/display/png';
import { randomBytes } from './bytes';

/** A PNG chunk built independently of the code under test (node's own CRC-32). */
function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), body])));
  return Buffer.concat([head, body, crc]);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface HandPng {
  width: number;
  height: number;
  colorType: number;
  bitDepth?: number;
  interlace?: number;
  palette?: number[];
  /** Filtered scanlines, each starting with its filter-type byte. */
  filtered: Uint8Array;
  idatPieces?: number;
}

function buildPng(p: HandPng): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(p.width, 0);
  ihdr.writeUInt32BE(p.height, 4);
  ihdr[8] = p.bitDepth ?? 8;
  ihdr[9] = p.colorType;
  ihdr[12] = p.interlace ?? 0;
  const parts = [SIGNATURE, chunk('IHDR', ihdr)];
  if (p.palette) parts.push(chunk('PLTE', Uint8Array.from(p.palette)));
  const z = zlib.deflateSync(p.filtered);
  const pieces = p.idatPieces ?? 1;
  const size = Math.ceil(z.length / pieces);
  for (let i = 0; i < z.length; i += size) parts.push(chunk('IDAT', z.subarray(i, i + size)));
  parts.push(chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a),
    pb = Math.abs(p - b),
    pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Applies PNG filter `types[y % types.length]` to each row of `pixels` (the encoder side of the filters). */
function filterRows(pixels: Uint8Array, height: number, stride: number, bpp: number, types: number[]): Uint8Array {
  const out = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const type = types[y % types.length];
    out[y * (stride + 1)] = type;
    for (let i = 0; i < stride; i++) {
      const x = pixels[y * stride + i];
      const a = i >= bpp ? pixels[y * stride + i - bpp] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= bpp ? pixels[(y - 1) * stride + i - bpp] : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
      out[y * (stride + 1) + 1 + i] = (x - predictor) & 0xff;
    }
  }
  return out;
}

describe('display/png', () => {
  it('round-trips 1, 2, 3 and 4 channels byte for byte', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const img: PixelImage = { width: 13, height: 7, channels, data: randomBytes(13 * 7 * channels, channels) };
      const back = decodePng(encodePng(img));
      assert.equal(back.width, 13);
      assert.equal(back.height, 7);
      assert.equal(back.channels, channels);
      assert.deepEqual(back.data, img.data, `channels ${channels}`);
    }
  });

  it('encodes an RgbImage (no channels field) as RGB', () => {
    const img = { width: 4, height: 3, data: randomBytes(36, 9) };
    const back = decodePng(encodePng(img));
    assert.equal(back.channels, 3);
    assert.deepEqual(back.data, img.data);
  });

  it('is deterministic and writes valid chunk CRCs', () => {
    const img: PixelImage = { width: 20, height: 20, channels: 3, data: randomBytes(1200, 5) };
    const a = encodePng(img);
    const b = encodePng({ ...img, data: img.data.slice() });
    assert.ok(a.equals(b));
    assert.ok(a.subarray(0, 8).equals(SIGNATURE));
    // Walk the chunks and check each CRC with node's independent implementation.
    const types: string[] = [];
    for (let pos = 8; pos < a.length;) {
      const length = a.readUInt32BE(pos);
      types.push(a.toString('latin1', pos + 4, pos + 8));
      assert.equal(a.readUInt32BE(pos + 8 + length), zlib.crc32(a.subarray(pos + 4, pos + 8 + length)));
      pos += 12 + length;
    }
    assert.deepEqual(types, ['IHDR', 'IDAT', 'IEND']);
  });

  it('crc32 agrees with zlib.crc32', () => {
    const data = randomBytes(1000, 77);
    assert.equal(crc32(data), zlib.crc32(data));
    assert.equal(crc32(Buffer.from('IEND', 'latin1')), 0xae426082);
  });

  it('decodes hand-filtered rows: Sub, Up, Average, Paeth with byte wrap-around', () => {
    // 3x4 gray. Row 0 Sub, row 1 Up, row 2 Average, row 3 Paeth.
    const filtered = Uint8Array.from([
      1,
      200,
      100,
      5, //  Sub:     200, (100+200)&255=44, 49
      2,
      10,
      20,
      30, //   Up:      210, 64, 79
      3,
      1,
      2,
      3, //      Average: 1+(0+210>>1)=106, 2+((106+64)>>1)=87, 3+((87+79)>>1)=86
      4,
      1,
      1,
      1, //      Paeth:   a=0,b=106,c=0 -> b: 107; a=107,b=87,c=106 -> p=88 -> b: 88; a=88,b=86,c=87 -> p=87 -> c: 88
    ]);
    const img = decodePng(buildPng({ width: 3, height: 4, colorType: 0, filtered }));
    assert.equal(img.channels, 1);
    assert.deepEqual(Array.from(img.data), [200, 44, 49, 210, 64, 79, 106, 87, 86, 107, 88, 88]);
  });

  it('decodes a Paeth row where the up, left and upper-left neighbours each win', () => {
    // 3x2 gray; row 0 None = [50, 50, 0]; row 1 Paeth:
    //   x0: a=0,   b=50, c=0  -> p=50  -> up (b):         50 + 50 = 100
    //   x1: a=100, b=50, c=50 -> p=100 -> left (a):      100 + 3  = 103
    //   x2: a=103, b=0,  c=50 -> p=53  -> upper-left (c): 50 + 7  = 57
    const filtered = Uint8Array.from([0, 50, 50, 0, 4, 50, 3, 7]);
    const img = decodePng(buildPng({ width: 3, height: 2, colorType: 0, filtered }));
    assert.deepEqual(Array.from(img.data), [50, 50, 0, 100, 103, 57]);
  });

  it('decodes every filter type for colour types 0, 2, 4 and 6, including mixed filters and split IDAT', () => {
    const cases: Array<[number, number]> = [
      [0, 1],
      [2, 3],
      [4, 2],
      [6, 4],
    ];
    for (const [colorType, bpp] of cases) {
      const width = 9,
        height = 6,
        stride = width * bpp;
      const pixels = randomBytes(stride * height, colorType + 100);
      for (const types of [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]]) {
        const filtered = filterRows(pixels, height, stride, bpp, types);
        const img = decodePng(buildPng({ width, height, colorType, filtered, idatPieces: 3 }));
        assert.equal(img.channels, bpp);
        assert.deepEqual(img.data, pixels, `colour type ${colorType}, filters ${types}`);
      }
    }
  });

  it('expands a palette image (colour type 3) to RGB', () => {
    const palette = [255, 0, 0, 0, 255, 0, 0, 0, 255];
    const filtered = Uint8Array.from([0, 0, 1, 2, 1, 2, 255, 255]); // 3x2 indices [0 1 2 / 2 1 0]: row 0 None, row 1 Sub
    const img = decodePng(buildPng({ width: 3, height: 2, colorType: 3, palette, filtered }));
    assert.equal(img.channels, 3);
    assert.deepEqual(Array.from(img.data), [255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0, 255, 0, 255, 0, 0]);
    const bad = buildPng({ width: 1, height: 1, colorType: 3, palette, filtered: Uint8Array.from([0, 3]) });
    assert.throws(() => decodePng(bad), /palette index 3/);
  });

  it('rejects a file that is not a PNG', () => {
    assert.throws(() => decodePng(Buffer.from('GIF89a not a png at all')), /not a PNG/);
    assert.throws(() => decodePng(Buffer.alloc(3)), /not a PNG/);
  });

  it('rejects truncated files, saying so', () => {
    const png = encodePng({ width: 16, height: 16, channels: 1, data: randomBytes(256, 3) });
    for (const cut of [10, 20, 40, png.length - 30, png.length - 12, png.length - 1]) {
      assert.throws(() => decodePng(png.subarray(0, cut)), /truncated/, `cut at ${cut} of ${png.length}`);
    }
  });

  it('rejects a bad CRC, naming the chunk', () => {
    const png = Buffer.from(encodePng({ width: 4, height: 4, channels: 3, data: randomBytes(48, 4) }));
    png[16] ^= 0x01; // inside the IHDR body (width)
    assert.throws(
      () => decodePng(png),
      (err: Error) => /bad CRC/.test(err.message) && /IHDR/.test(err.message),
    );
  });

  it('reads 16-bit, interlaced (Adam7) and low-bit-depth palette PNGs as an independent decoder (sharp) does', async () => {
    // 13x9: odd sizes, so every Adam7 pass has a ragged edge.
    const width = 13;
    const height = 9;
    const rgb = randomBytes(width * height * 3, 7);
    const raw = { raw: { width, height, channels: 3 as const } };
    const source = await sharp(Buffer.from(rgb), raw).png().toBuffer();
    const variants: Record<string, Buffer> = {
      'interlaced RGB': await sharp(source).png({ progressive: true }).toBuffer(),
      '16-bit RGB': await sharp(source).toColourspace('rgb16').png().toBuffer(),
      '16-bit RGB, interlaced': await sharp(source).toColourspace('rgb16').png({ progressive: true }).toBuffer(),
      '4-bit palette': await sharp(source).png({ palette: true, colours: 16, dither: 0 }).toBuffer(),
      '2-bit palette': await sharp(source).png({ palette: true, colours: 4, dither: 0 }).toBuffer(),
      '1-bit palette, interlaced': await sharp(source).png({ palette: true, colours: 2, dither: 0, progressive: true }).toBuffer(),
    };
    for (const [name, png] of Object.entries(variants)) {
      const depth = png[24]; // IHDR bit depth
      assert.equal(
        depth,
        { 'interlaced RGB': 8, '16-bit RGB': 16, '16-bit RGB, interlaced': 16, '4-bit palette': 4, '2-bit palette': 2, '1-bit palette, interlaced': 1 }[name],
        `${name}: the encoder wrote ${depth}-bit samples`,
      );
      assert.equal(png[28], name.includes('interlaced') ? 1 : 0, `${name}: interlace flag`);
      const ours = decodePng(png);
      if (depth === 16) {
        // sharp widens 8-bit samples to 16 bits as v * 256 (+ 0): the high bytes are the source.
        assert.deepEqual([ours.width, ours.height, ours.channels], [width, height, 3], name);
        assert.deepEqual(Buffer.from(ours.data), Buffer.from(rgb), name);
      } else {
        const theirs = await sharp(png).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
        assert.deepEqual([ours.width, ours.height, ours.channels], [width, height, theirs.info.channels], name);
        assert.deepEqual(Buffer.from(ours.data), theirs.data, name);
      }
    }
  });

  it('reads 16-bit gray as its high bytes and 2-bit gray scaled to 0..255 (hand-built files)', () => {
    const g16 = buildPng({ width: 1, height: 2, colorType: 0, bitDepth: 16, filtered: Uint8Array.from([0, 0x12, 0x34, 0, 0xab, 0xff]) });
    assert.deepEqual(Array.from(decodePng(g16).data), [0x12, 0xab]);
    const g2 = buildPng({ width: 4, height: 1, colorType: 0, bitDepth: 2, filtered: Uint8Array.from([0, 0b00011011]) });
    assert.deepEqual(Array.from(decodePng(g2).data), [0, 85, 170, 255]);
  });

  it('rejects bit depths a colour type cannot have', () => {
    const bad = buildPng({ width: 1, height: 1, colorType: 2, bitDepth: 4, filtered: Uint8Array.from([0, 1, 2]) });
    assert.throws(() => decodePng(bad), /colour type 2 cannot have 4-bit samples \(allowed: 8, 16\)/);
  });
});
