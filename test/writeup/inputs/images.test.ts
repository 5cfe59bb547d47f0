import { strict as assert } from 'assert';
import * as fs from 'fs';
import { loadIdxDir } from '../../../src/lib/data/idx';
import { DEBIAN_FASHION_DIR } from '../../../src/lib/data/fashion';
import { CAMPANILE, OWN_PHOTO_1, OWN_PHOTO_2, photoPixels } from '../../../src/writeup/inputs/photos';
import {
  PART_A_IMAGES,
  partAImage,
  partAImageDescription,
  partAImages,
  partAImageTitle,
  partAMask,
  partAMasks,
  rectMask,
} from '../../../src/writeup/inputs/images';
import { distanceToSegment, rasteriseStrokes } from '../../../src/lib/images/strokes';
import { typesetGlyph } from '../../../src/writeup/inputs/web-image';
import { useDefaultBackend } from '../../helpers';

describe('inputs/images', () => {
  before(useDefaultBackend);

  it('gives every image at the model size and channels, in [-1, 1], with some ink and some background', () => {
    for (const [size, channels] of [
      [28, 1],
      [64, 3],
      [16, 3],
    ]) {
      for (const name of PART_A_IMAGES) {
        const x = partAImage(name, size, channels);
        assert.deepEqual(x.shape, [1, size, size, channels], name);
        const v = x.dataSync();
        const min = Math.min(...v);
        const max = Math.max(...v);
        assert.ok(min >= -1 && max <= 1, `${name} at ${size}: values in [-1, 1]`);
        // The gray set is ink on black; the colour set photos and ink on white (spread over the range).
        assert.ok(min < -0.4 && max > 0.5, `${name} at ${size}x${channels}: has dark and light parts (min ${min}, max ${max})`);
        x.dispose();
      }
    }
  });

  it('gives RGB models the colour set: photo crops, clip art, and dark strokes on white', () => {
    const sketch = partAImage('sketch-2', 32, 3);
    const corner = sketch.dataSync()[0];
    assert.ok(corner > 0.99, `paper is white, got ${corner}`);
    const gray = partAImage('sketch-2', 32, 1);
    assert.ok(gray.dataSync()[0] < -0.99, 'the gray set keeps black paper');
    const cat = partAImage('own-1', 32, 3).dataSync();
    let colourful = 0;
    for (let i = 0; i < cat.length; i += 3) colourful = Math.max(colourful, Math.abs(cat[i] - cat[i + 2]));
    assert.ok(colourful > 0.3, 'the cat photo has colour');
    assert.match(partAImageTitle('campanile', 3), /rocket/);
    assert.match(partAImageTitle('campanile', 1), /bag/);
    assert.match(partAImageDescription('web', 3), /CC BY 4\.0/);
    sketch.dispose();
    gray.dispose();
  });

  it('stores the photos exactly as the Fashion-MNIST test images they name (when the data set is installed)', function () {
    if (!fs.existsSync(DEBIAN_FASHION_DIR)) this.skip();
    const { test } = loadIdxDir(DEBIAN_FASHION_DIR, Array.from({ length: 10 }, String), '');
    for (const [photo, label] of [
      [CAMPANILE, 8],
      [OWN_PHOTO_1, 2],
      [OWN_PHOTO_2, 7],
    ] as const) {
      const ref = test.images.subarray(photo.index * 784, (photo.index + 1) * 784);
      const mine = photoPixels(photo);
      assert.equal(test.labels[photo.index], label);
      for (let i = 0; i < 784; i++) assert.ok(Math.abs(mine[i] - ref[i]) < 1e-6, `${photo.source} pixel ${i}`);
    }
  });

  it('rasterises strokes with anti-aliased thick lines', () => {
    assert.equal(distanceToSegment(0, 1, [0, 0], [2, 0]), 1);
    assert.equal(distanceToSegment(3, 0, [0, 0], [2, 0]), 1);
    // A horizontal line through the middle of a 20 px canvas, 3 px wide: full ink on it, none far away.
    const im = rasteriseStrokes(
      [
        [
          [0.1, 0.5],
          [0.9, 0.5],
        ],
      ],
      20,
      3 / 20,
    );
    assert.equal(im.data[10 * 20 + 10], 1);
    assert.equal(im.data[2 * 20 + 10], 0);
    const edge = im.data[8 * 20 + 10]; // 1.5 px from the line's centre: the pen's edge, partly covered
    assert.ok(edge > 0.3 && edge < 0.7, `edge pixel ${edge}`);
    assert.throws(() => rasteriseStrokes([], 0, 0.1), /size must be a positive integer/);
  });

  it('typesets a glyph centred, white on black', () => {
    const im = typesetGlyph('1', 28);
    const ink = im.data.reduce((a, b) => a + b, 0);
    assert.ok(ink > 20 && ink < 300, `ink ${ink}`);
    let cx = 0;
    im.data.forEach((v, i) => (cx += v * (i % 28)));
    assert.ok(Math.abs(cx / ink - 14) < 2, 'centred horizontally');
    assert.throws(() => typesetGlyph('12', 28), /one character/);
  });

  it('builds masks of 0 and 1 (1 = new content) at any size', () => {
    assert.deepEqual([...rectMask({ x0: 0, y0: 0, x1: 0.5, y1: 0.5 }, 2)], [1, 0, 0, 0]);
    const top = partAMask('campanile', 28).dataSync();
    assert.ok(top.every((v) => v === 0 || v === 1));
    assert.equal(top[0 * 28 + 14], 1, 'the top of the test image is filled');
    assert.equal(top[27 * 28 + 14], 0, 'its bottom is kept');
    const batch = partAMasks(['campanile', 'own-1'], 16);
    assert.deepEqual(batch.shape, [2, 16, 16, 1]);
    batch.dispose();
    assert.throws(() => partAImage('eiffel' as never, 28, 1), /Unknown Part A image "eiffel": use one of campanile/);
    assert.throws(() => partAImages(['campanile'], 28, 2), /Channels must be 1 \(gray\) or 3/);
  });
});
