// Crafted PNGs that declare huge sizes or inflate far past their size are refused before the work
// (a 389 KB file declaring 20000x20000 took 28 s and 3.9 GB; a 1 MB one inflated to 1 GB).
import assert from 'assert/strict';
import * as zlib from 'zlib';
import { decodePng, encodePng } from '../../src/lib/display/png';
import { loadUserImage, userImageFromBytes } from '../../src/lib/images/user-image';
import { useDefaultBackend } from '../helpers';

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

/** A PNG (default gray 8-bit) declaring width x height whose image data is `raw` deflated. */
function craftedPng(width: number, height: number, raw: Buffer, bitDepth = 8, colorType = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** SOI, a baseline frame header (SOF0) declaring width x height with 3 components, EOI: 23 bytes. */
function jpegDeclaring(width: number, height: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 255, width >> 8, width & 255, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

describe('reliability: decompression bombs and absurd sizes', function () {
  before(useDefaultBackend);

  it('a PNG declaring 20000x20000 is refused at once, before any allocation', () => {
    const t0 = Date.now();
    assert.throws(() => decodePng(craftedPng(20000, 20000, Buffer.alloc(1000))), /declares 20000x20000 pixels, more than the 50 million/);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('a 1x1 PNG whose data inflates to 64 MB stops at the 2 bytes it needs', () => {
    const png = craftedPng(1, 1, Buffer.alloc(64 * 1024 * 1024));
    assert.ok(png.length < 200_000);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => decodePng(png), /inflates to more than the 2 bytes its 1x1 size needs/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024, 'it did not inflate the whole stream');
  });

  it('an honest PNG still decodes', () => {
    const png = encodePng({ width: 3, height: 2, data: new Uint8Array(18).fill(200) });
    assert.deepEqual([decodePng(png).width, decodePng(png).height], [3, 2]);
  });

  it('an absurd model input size is a clear error, not a RangeError', () => {
    const png = encodePng({ width: 3, height: 2, data: new Uint8Array(18).fill(200) });
    assert.throws(() => userImageFromBytes(png, 100000, 3), /Image size must be an integer from 1 to 4096 \(the model's imageSize\), got 100000/);
  });

  it('user images: sizes no model input needs are refused from the header in well under a second', () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      // 381 KB-like: 7000x7000 RGBA at 16 bits (was accepted after 26 s and 1.8 GB).
      [
        '16-bit RGBA 7000x7000 PNG',
        craftedPng(7000, 7000, Buffer.alloc(1000), 16, 6),
        /PNG declares 7000x7000 pixels, more than the 16\.8 million allowed here/,
      ],
      // 49,999,999 x 1 (was 7.6 s and 1.1 GB).
      ['49,999,999x1 PNG', craftedPng(49_999_999, 1, Buffer.alloc(1000)), /PNG declares 49999999x1 pixels, more than the 16\.8 million allowed here/],
      // 4096x4096 at 16 bits RGBA: within the pixels, over the bytes.
      ['16-bit RGBA 4096x4096 PNG', craftedPng(4096, 4096, Buffer.alloc(1000), 16, 6), /128 MiB decoded, more than the 64 MiB allowed here/],
      // A 23-byte JPEG declaring 7000x7000 (was 12.8 s, 1.5 GB, then "Cannot read properties of undefined").
      ['23-byte JPEG', jpegDeclaring(7000, 7000), /is a JPEG of 7000x7000 pixels, 187 MiB decoded, more than the 64 MiB allowed here/],
      ['JPEG with no scan', jpegDeclaring(64, 64), /is a JPEG with no image data \(no start-of-scan segment\): the file is cut short or damaged/],
    ];
    for (const [name, bytes, message] of cases) {
      const t0 = Date.now();
      assert.throws(() => userImageFromBytes(bytes, 32, 3, name), message, name);
      assert.ok(Date.now() - t0 < 500, `${name}: ${Date.now() - t0} ms`);
    }
    assert.equal(jpegDeclaring(7000, 7000).length, 23);
  });

  it('a folder given as an image is named as such', () => {
    assert.throws(
      () => loadUserImage(__dirname, 32, 3),
      new RegExp(`${__dirname.replace(/[/\\.]/g, '\\$&')} is a folder, not an image: give the path of a PNG or JPEG file`),
    );
  });
});
