import assert from 'assert/strict';
import { hconcat, imageGrid, vconcat } from '../../src/lib/display/grid';
import { blankImage, type FloatImages, type RgbImage } from '../../src/lib/display/image';

/** `count` gray images; image i is uniformly i/10 except pixel (1, 2), which is 1 (white). */
function batch(count: number, width: number, height: number): FloatImages {
  const data = new Float32Array(count * width * height);
  for (let i = 0; i < count; i++) {
    data.fill(i / 10, i * width * height, (i + 1) * width * height);
    data[i * width * height + 2 * width + 1] = 1;
  }
  return { count, width, height, channels: 1, data };
}

function pixel(img: RgbImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(o, o + 3));
}

function countDark(img: RgbImage, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pixel(img, x, y)[0] < 100) n++;
  return n;
}

describe('display/grid', () => {
  it('lays cells out by cols, padding and scale', () => {
    const grid = imageGrid(batch(5, 4, 3), { cols: 3, scale: 2, padding: 1 });
    assert.equal(grid.width, 1 + 3 * 8 + 2 * 1 + 1);
    assert.equal(grid.height, 1 + 2 * 6 + 1 + 1);
    // Image 4 sits in row 1, column 1: top-left at (1 + 9, 1 + 7), value 0.4 -> 102.
    const [x, y] = [10, 8];
    assert.deepEqual(pixel(grid, x, y), [102, 102, 102]);
    assert.deepEqual(pixel(grid, x + 7, y + 5), [102, 102, 102]);
    // Its white marker pixel (1, 2) becomes the 2x2 block at (x+2..x+3, y+4..y+5).
    for (const [dx, dy] of [
      [2, 4],
      [3, 4],
      [2, 5],
      [3, 5],
    ])
      assert.deepEqual(pixel(grid, x + dx, y + dy), [255, 255, 255]);
    assert.deepEqual(pixel(grid, x + 1, y + 4), [102, 102, 102]);
    // Padding and the empty sixth cell stay background.
    assert.deepEqual(pixel(grid, x - 1, y), [255, 255, 255]);
    assert.deepEqual(pixel(grid, 1 + 2 * 9 + 3, y + 2), [255, 255, 255]);
    // Image 0 (value 0) at the top-left cell.
    assert.deepEqual(pixel(grid, 1, 1), [0, 0, 0]);
  });

  it('maps the value range and uses the background colour', () => {
    const grid = imageGrid(batch(1, 4, 4), { range: [-1, 1], scale: 1, padding: 2, background: [0, 0, 255] });
    assert.deepEqual(pixel(grid, 0, 0), [0, 0, 255]);
    assert.deepEqual(pixel(grid, 2, 2), [128, 128, 128]); // 0 in [-1, 1]
  });

  it('picks a default scale that makes a cell at least 56 px', () => {
    assert.equal(imageGrid(batch(1, 28, 28), { padding: 0 }).width, 56);
    assert.equal(imageGrid(batch(1, 10, 20), { padding: 0 }).height, 60);
    assert.equal(imageGrid(batch(1, 64, 64), { padding: 0 }).width, 64);
    // Default cols: ceil(sqrt(count)) -> 9 images in 3 columns.
    const g = imageGrid(batch(9, 28, 28), { padding: 0 });
    assert.deepEqual([g.width, g.height], [3 * 56, 3 * 56]);
  });

  it('adds room for a title, headers, row labels and captions, and draws dark text there', () => {
    const grid = imageGrid(batch(4, 10, 10), {
      cols: 2,
      scale: 3,
      padding: 4,
      range: [0, 1],
      title: 'T',
      colLabels: ['a', 'b'],
      rowLabels: ['r0', 'row1'],
      cellLabels: ['x', 'y', 'z', 'w'],
    });
    const rowLabelWidth = 4 * 6 - 1; // 'row1'
    const gridLeft = 4 + rowLabelWidth + 4;
    const gridTop = 4 + 14 + 4 + 7 + 3; // padding, title (scale 2), padding, header, gap
    const rowHeight = 30 + 3 + 7; // cell, gap, caption
    assert.equal(grid.width, gridLeft + 2 * 30 + 4 + 4);
    assert.equal(grid.height, gridTop + 2 * rowHeight + 4 + 4);
    // Title band, header band over each column, row-label band, caption band under each cell.
    assert.ok(countDark(grid, 0, 4, grid.width, 18) > 5, 'title');
    assert.ok(countDark(grid, gridLeft, 22, gridLeft + 30, 29) > 5, 'header a');
    assert.ok(countDark(grid, gridLeft + 34, 22, gridLeft + 64, 29) > 5, 'header b');
    assert.ok(countDark(grid, 4, gridTop, gridLeft - 4, gridTop + 30) > 5, 'row label r0');
    assert.ok(countDark(grid, 4, gridTop + rowHeight + 4, gridLeft - 4, gridTop + rowHeight + 34) > 5, 'row label row1');
    for (const [r, c] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]) {
      const y = gridTop + r * (rowHeight + 4) + 33;
      const x = gridLeft + c * 34;
      assert.ok(countDark(grid, x, y, x + 30, y + 7) > 3, `caption of cell ${r},${c}`);
    }
    // No ink in the padding between label bands.
    assert.equal(countDark(grid, 0, 0, grid.width, 4), 0);
    // Cell (1, 0) holds image 2 (value 0.2 -> 51) with no text over it.
    const cellY = gridTop + rowHeight + 4;
    assert.deepEqual(pixel(grid, gridLeft, cellY), [51, 51, 51]);
    assert.deepEqual(pixel(grid, gridLeft + 29, cellY + 29), [51, 51, 51]);
  });

  it('widens a column to fit a long caption and centres the cell in it', () => {
    const caption = 'a long caption'; // 14 * 6 - 1 = 83 px
    const grid = imageGrid(batch(1, 10, 10), { scale: 3, padding: 2, cellLabels: [caption] });
    assert.equal(grid.width, 2 + 83 + 2);
    const cellX = 2 + Math.floor((83 - 30) / 2);
    assert.deepEqual(pixel(grid, cellX, 2), [0, 0, 0]);
    assert.deepEqual(pixel(grid, cellX - 1, 2), [255, 255, 255]);
  });

  it('rejects more labels than rows, columns or images', () => {
    const images = batch(4, 2, 2);
    assert.throws(() => imageGrid(images, { cols: 2, rowLabels: ['a', 'b', 'c'] }), /rowLabels/);
    assert.throws(() => imageGrid(images, { cols: 2, colLabels: ['a', 'b', 'c'] }), /colLabels/);
    assert.throws(() => imageGrid(images, { cellLabels: ['1', '2', '3', '4', '5'] }), /cellLabels/);
    assert.throws(() => imageGrid({ ...images, count: 0, data: new Float32Array(0) }), /at least one image/);
  });

  it('hconcat and vconcat place images with gaps, centring the smaller ones', () => {
    const a = blankImage(4, 6, [10, 10, 10]);
    const b = blankImage(2, 2, [20, 20, 20]);
    const h = hconcat([a, b], 3);
    assert.deepEqual([h.width, h.height], [4 + 3 + 2, 6]);
    assert.deepEqual(pixel(h, 3, 0), [10, 10, 10]);
    assert.deepEqual(pixel(h, 5, 3), [255, 255, 255]); // gap
    assert.deepEqual(pixel(h, 7, 1), [255, 255, 255]); // above the centred b
    assert.deepEqual(pixel(h, 7, 2), [20, 20, 20]);
    assert.deepEqual(pixel(h, 8, 3), [20, 20, 20]);
    assert.deepEqual(pixel(h, 8, 4), [255, 255, 255]);
    const v = vconcat([a, b], 1);
    assert.deepEqual([v.width, v.height], [4, 6 + 1 + 2]);
    assert.deepEqual(pixel(v, 0, 7), [255, 255, 255]); // left of the centred b
    assert.deepEqual(pixel(v, 1, 7), [20, 20, 20]);
    assert.deepEqual(pixel(v, 2, 8), [20, 20, 20]);
    assert.deepEqual(pixel(v, 3, 8), [255, 255, 255]);
    assert.deepEqual(pixel(v, 0, 6), [255, 255, 255]); // gap
  });

  it('describes what it laid out, for alt text: title, shape, labels; concatenations list their parts', () => {
    const labels = Array.from({ length: 14 }, (_, i) => `t=${i}`);
    const grid = imageGrid(batch(14, 3, 2), { cols: 7, title: 'Noising', rowLabels: ['a', 'b'], cellLabels: labels });
    assert.equal(
      grid.description,
      'Noising: 14 greyscale images of 3x2 pixels in 2 rows of 7; rows: a, b; captions: t=0, t=1, t=2, t=3, t=4, t=5, t=6, t=7, t=8, t=9, t=10, t=11 and 2 more.',
    );
    assert.equal(imageGrid({ ...batch(1, 4, 4) }).description, 'A greyscale image of 4x4 pixels.');
    const plain = blankImage(2, 2);
    assert.equal(hconcat([plain, plain]).description, undefined, 'nothing to say about undescribed pictures');
    assert.equal(vconcat([grid, plain]).description, `2 pictures stacked, top to bottom. (1) ${grid.description} (2) unlabelled`);
  });
});
