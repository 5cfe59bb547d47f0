import assert from 'assert/strict';
import { blit, blankImage, toRgb8, upscaleNearest, type FloatImages, type RgbImage } from '../../src/lib/display/image';

describe('display/image', () => {
  describe('toRgb8', () => {
    it('maps the range to 0..255 with rounding and clamps outside values', () => {
      const images: FloatImages = {
        count: 2,
        height: 1,
        width: 6,
        channels: 1,
        data: Float32Array.from([0, 0, 0, 0, 0, 0, -1, -2, 1, 2, 0, 0.5]),
      };
      const img = toRgb8(images, 1, [-1, 1]);
      assert.equal(img.width, 6);
      assert.equal(img.height, 1);
      // -1 -> 0, -2 -> clamp 0, 1 -> 255, 2 -> clamp 255, 0 -> 127.5 rounds to 128, 0.5 -> 191.25 -> 191; gray replicated
      assert.deepEqual(Array.from(img.data), [0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 128, 128, 128, 191, 191, 191]);
    });

    it('keeps RGB channels apart and turns NaN into 0', () => {
      const images: FloatImages = { count: 1, height: 1, width: 2, channels: 3, data: Float32Array.from([1, 0, 0.5, NaN, 0.2, 1]) };
      assert.deepEqual(Array.from(toRgb8(images, 0).data), [255, 0, 128, 0, 51, 255]);
    });

    it('rejects a bad index, an empty range and a wrong data length', () => {
      const images: FloatImages = { count: 1, height: 2, width: 2, channels: 1, data: new Float32Array(4) };
      assert.throws(() => toRgb8(images, 1), /out of range/);
      assert.throws(() => toRgb8(images, 0, [1, 1]), /range/);
      assert.throws(() => toRgb8({ ...images, data: new Float32Array(3) }, 0), /NHWC/);
    });
  });

  describe('upscaleNearest', () => {
    it('replicates each pixel into a factor x factor block', () => {
      const img: RgbImage = { width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) };
      const big = upscaleNearest(img, 3);
      assert.equal(big.width, 6);
      assert.equal(big.height, 6);
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 6; x++) {
          const src = (Math.floor(y / 3) * 2 + Math.floor(x / 3)) * 3;
          const dst = (y * 6 + x) * 3;
          assert.deepEqual(Array.from(big.data.subarray(dst, dst + 3)), Array.from(img.data.subarray(src, src + 3)), `pixel ${x},${y}`);
        }
      }
    });

    it('returns a copy at factor 1 and rejects non-integer factors', () => {
      const img = blankImage(2, 1, [9, 9, 9]);
      const same = upscaleNearest(img, 1);
      assert.deepEqual(same, img);
      assert.notEqual(same.data, img.data);
      assert.throws(() => upscaleNearest(img, 1.5), /positive integer/);
      assert.throws(() => upscaleNearest(img, 0), /positive integer/);
    });
  });

  it('blit clips at the borders', () => {
    const dst = blankImage(3, 3, [0, 0, 0]);
    blit(dst, blankImage(2, 2, [7, 7, 7]), 2, -1);
    const ink = [];
    for (let p = 0; p < 9; p++) if (dst.data[p * 3] === 7) ink.push(p);
    assert.deepEqual(ink, [2]);
  });
});
