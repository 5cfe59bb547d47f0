// Crafted PNGs that declare huge sizes or inflate far past their size are refused before the work
// (a 389 KB file declaring 20000x20000 took 28 s and 3.9 GB; a 1 MB one inflated to 1 GB).
import assert from 'assert/strict';
import * as zlib from 'zlib';
import { decodePng, encodePng } from '../../src/lib/display/png';
import { userImageFromBytes } from '../../src/lib/inputs/user-image';
import { useDefaultBackend } from '../helpers';

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

/** A gray 8-bit PNG declaring width x height whose image data is `raw` deflated. */
function craftedPng(width: number, height: number, raw: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
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
});
