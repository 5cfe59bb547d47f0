import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { encodePng } from '../../src/lib/display/png';
import { loadUserImage, userImageFromBytes } from '../../src/lib/images/user-image';
import { tempDir, useDefaultBackend } from '../helpers';

describe('inputs/loadUserImage', () => {
  before(useDefaultBackend);

  it('centre-crops, resizes and converts a PNG to the model size and channels', () => {
    // 8x4 RGB: left and right quarters red (cropped away), the centre 4x4 white.
    const width = 8;
    const height = 4;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 3;
        if (x < 2 || x >= 6) data[o] = 255;
        else data.fill(255, o, o + 3);
      }
    }
    const dir = tempDir('user-image');
    const file = path.join(dir, 'photo.png');
    fs.writeFileSync(file, encodePng({ width, height, data }));
    const gray = loadUserImage(file, 2, 1);
    assert.deepEqual(gray.shape, [1, 2, 2, 1]);
    for (const v of gray.dataSync()) assert.ok(Math.abs(v - 1) < 1e-6, 'white centre -> 1');
    const rgb = loadUserImage(file, 6, 3);
    assert.deepEqual(rgb.shape, [1, 6, 6, 3]);
    gray.dispose();
    rgb.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads a JPEG (a photo saved by another encoder gives the same picture), refuses a broken one, and a missing file', async () => {
    const size = 16;
    const rgb = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) rgb.set([200, 40, 40], i * 3); // flat red
    const jpg = await sharp(Buffer.from(rgb), { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const x = userImageFromBytes(jpg, 8, 3, 'red.jpg');
    const v = x.dataSync();
    for (let i = 0; i < v.length; i += 3) {
      assert.ok(Math.abs(v[i] - ((2 * 200) / 255 - 1)) < 0.05 && Math.abs(v[i + 1] - ((2 * 40) / 255 - 1)) < 0.05, `pixel ${i / 3}`);
    }
    x.dispose();
    assert.throws(
      () => userImageFromBytes(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 28, 1, 'cat.jpg'),
      /cat\.jpg is a JPEG without a frame header \(no image size\): the file is damaged or cut short; re-save it/,
    );
    assert.throws(() => loadUserImage('/nonexistent/cat.png', 28), /does not exist/);
  });
});
