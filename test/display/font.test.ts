import assert from 'assert/strict';
import { drawText, glyphRows, measureText } from '../../src/lib/display/font';
import { blankImage, type RgbImage } from '../../src/lib/display/image';

function inkAt(img: RgbImage, x: number, y: number): boolean {
  return img.data[(y * img.width + x) * 3] < 128;
}

describe('display/font', () => {
  it('has a distinct 5x7 glyph for every printable ASCII character', () => {
    const seen = new Map<string, string>();
    for (let code = 32; code <= 126; code++) {
      const ch = String.fromCharCode(code);
      const rows = glyphRows(ch);
      assert.equal(rows.length, 7, `glyph ${ch}`);
      for (const row of rows) assert.ok(row < 32, `glyph ${ch} is wider than 5`);
      const key = Array.from(rows).join(',');
      assert.ok(!seen.has(key), `glyph ${ch} is the same as ${seen.get(key)}`);
      seen.set(key, ch);
      const ink = rows.some((r) => r !== 0);
      assert.equal(ink, ch !== ' ', `glyph ${JSON.stringify(ch)} ink`);
    }
  });

  it('draws characters outside printable ASCII as "?"', () => {
    assert.deepEqual(glyphRows('\u00e9'), glyphRows('?'));
    assert.deepEqual(glyphRows('\n'), glyphRows('?'));
  });

  it('measures one line of text', () => {
    assert.deepEqual(measureText('', 1), { width: 0, height: 0 });
    assert.deepEqual(measureText('A', 1), { width: 5, height: 7 });
    assert.deepEqual(measureText('abc', 2), { width: (3 * 6 - 1) * 2, height: 14 });
  });

  it('draws the glyph pattern at the requested place, scale and colour', () => {
    const img = blankImage(20, 20);
    drawText(img, 'T', 3, 4, { scale: 2, color: [200, 10, 30] });
    // 'T': full top row, then a centre stem.
    for (const y of [4, 5]) {
      for (let x = 3; x < 13; x++) {
        assert.deepEqual(Array.from(img.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3)), [200, 10, 30], `top bar at ${x},${y}`);
      }
    }
    assert.deepEqual(Array.from(img.data.subarray((17 * 20 + 7) * 3, (17 * 20 + 7) * 3 + 3)), [200, 10, 30]); // stem bottom
    assert.deepEqual(Array.from(img.data.subarray((17 * 20 + 3) * 3, (17 * 20 + 3) * 3 + 3)), [255, 255, 255]); // beside the stem
    assert.deepEqual(Array.from(img.data.subarray((18 * 20 + 7) * 3, (18 * 20 + 7) * 3 + 3)), [255, 255, 255]); // below the glyph
    // Nothing outside the 10x14 box.
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 20; x++) {
        const inside = x >= 3 && x < 13 && y >= 4 && y < 18;
        if (!inside) assert.equal(img.data[(y * 20 + x) * 3], 255, `stray ink at ${x},${y}`);
      }
    }
  });

  it('advances 6 pixels per character and clips at the image border', () => {
    const img = blankImage(8, 5);
    drawText(img, 'II', -1, -3); // partly off the top-left, second char partly off the right
    // 'I' row 3 (y=0 here) is '..#..': first char stem at x=-1+2=1, second at x=5+2=7.
    assert.ok(inkAt(img, 1, 0));
    assert.ok(inkAt(img, 7, 0));
    assert.ok(!inkAt(img, 4, 0));
  });
});
