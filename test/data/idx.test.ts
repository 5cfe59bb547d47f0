import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { findIdxFile, loadIdxDir, loadIdxPair, parseIdx, readIdxFile } from '../../src/lib/data/idx';
import { idxBytes, syntheticImages, syntheticLabels, tempDir, writeIdx, writeSplitDir } from './fixtures';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

describe('data/idx', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('idx');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('parses raw and gzipped files to the same dims and bytes', () => {
    const pixels = syntheticImages(5, 4, 3);
    writeIdx(path.join(dir, 'raw'), [5, 4, 3], pixels);
    writeIdx(path.join(dir, 'zipped.bin'), [5, 4, 3], pixels, true);
    const raw = readIdxFile(path.join(dir, 'raw'));
    const zipped = readIdxFile(path.join(dir, 'zipped.bin'));
    assert.deepEqual(raw.dims, [5, 4, 3]);
    assert.deepEqual(zipped.dims, raw.dims);
    assert.deepEqual(Array.from(zipped.data), Array.from(pixels));
    assert.deepEqual(Array.from(raw.data), Array.from(pixels));
  });

  it('loads an image/label pair with pixels byte/255 and the given classes', () => {
    const pixels = syntheticImages(6, 2, 2);
    writeIdx(path.join(dir, 'img'), [6, 2, 2], pixels, true);
    writeIdx(path.join(dir, 'lab'), [6], [0, 1, 2, 9, 5, 0]);
    const ds = loadIdxPair(path.join(dir, 'img'), path.join(dir, 'lab'), DIGITS);
    assert.equal(ds.count, 6);
    assert.equal(ds.height, 2);
    assert.equal(ds.width, 2);
    assert.equal(ds.images.length, 24);
    assert.deepEqual(Array.from(ds.labels), [0, 1, 2, 9, 5, 0]);
    for (let i = 0; i < pixels.length; i++) assert.equal(ds.images[i], Math.fround(pixels[i] / 255));
    assert.equal(ds.classes, DIGITS);
  });

  it('rejects a bad magic number, naming the file and the expected magic', () => {
    const bytes = idxBytes([2, 2, 2], new Uint8Array(8));
    bytes[2] = 0x0d; // float elements
    assert.throws(() => parseIdx(bytes, 'weird.idx'), /weird\.idx.*magic number is 0x00000d03.*0x00000801.*0x00000803/);
    fs.writeFileSync(path.join(dir, 'page.html'), '<html>Not found</html>');
    assert.throws(() => readIdxFile(path.join(dir, 'page.html')), /page\.html is not an IDX file/);
  });

  it('rejects a truncated file with the expected and found sizes', () => {
    const full = idxBytes([3, 2, 2], new Uint8Array(12));
    const file = path.join(dir, 'short-idx3-ubyte');
    fs.writeFileSync(file, full.subarray(0, full.length - 5));
    assert.throws(
      () => readIdxFile(file),
      (err: Error) => {
        assert.match(err.message, /short-idx3-ubyte is truncated/);
        assert.match(err.message, /need 28 bytes, found 23/);
        assert.match(err.message, /download it again/);
        return true;
      },
    );
    assert.throws(() => parseIdx(full.subarray(0, 10), 'hdr'), /hdr is truncated: its 3-dimensional header needs 16 bytes, found 10/);
  });

  it('rejects an over-long file', () => {
    const bytes = Buffer.concat([idxBytes([4], [1, 2, 3, 4]), Buffer.from([0, 0])]);
    assert.throws(() => parseIdx(bytes, 'long'), /long is longer than its header says: dimensions \[4\] need 12 bytes, found 14/);
  });

  it('turns a corrupt gzip stream into an error naming the file', () => {
    const zipped = zlib.gzipSync(idxBytes([50], syntheticLabels(50, 10)));
    const truncated = zipped.subarray(0, zipped.length - 12);
    const file = path.join(dir, 'labels.gz');
    fs.writeFileSync(file, truncated);
    assert.throws(() => readIdxFile(file), /labels\.gz is gzip-compressed but cannot be decompressed/);
    const garbled = Buffer.from(zipped);
    for (let i = 12; i < garbled.length - 8; i++) garbled[i] ^= 0x5a;
    assert.throws(() => parseIdx(garbled, 'garbled.gz'), /garbled\.gz is gzip-compressed but cannot be decompressed/);
  });

  it('rejects images and labels with different counts', () => {
    writeIdx(path.join(dir, 'img'), [5, 2, 2], new Uint8Array(20));
    writeIdx(path.join(dir, 'lab'), [4], [0, 1, 2, 3]);
    assert.throws(() => loadIdxPair(path.join(dir, 'img'), path.join(dir, 'lab'), DIGITS), /img holds 5 images but .*lab holds 4 labels/);
  });

  it('rejects labels outside the classes, and swapped files', () => {
    writeIdx(path.join(dir, 'img'), [2, 1, 1], [0, 255]);
    writeIdx(path.join(dir, 'lab'), [2], [1, 10]);
    assert.throws(() => loadIdxPair(path.join(dir, 'img'), path.join(dir, 'lab'), DIGITS), /label 10 at item 1 is not a valid class \(expected 0\.\.9\)/);
    assert.throws(() => loadIdxPair(path.join(dir, 'lab'), path.join(dir, 'img'), DIGITS), /should be an image file .* but is a label file.*swapped/);
  });

  it('loads a folder of the four standard files, raw or gzipped', () => {
    writeSplitDir(dir, { gzip: true, trainCount: 12, testCount: 7 });
    const { train, test } = loadIdxDir(dir, DIGITS, 'fix');
    assert.equal(train.count, 12);
    assert.equal(test.count, 7);
    assert.deepEqual(Array.from(test.labels), [0, 1, 2, 3, 4, 5, 6]);
    const rawDir = tempDir('idx-raw');
    try {
      writeSplitDir(rawDir, { trainCount: 12, testCount: 7 });
      const raw = loadIdxDir(rawDir, DIGITS, 'fix');
      assert.deepEqual(raw.train.images, train.images);
      assert.deepEqual(raw.test.labels, test.labels);
    } finally {
      fs.rmSync(rawDir, { recursive: true, force: true });
    }
  });

  it('accepts the dotted file names some re-distributions use', () => {
    writeIdx(path.join(dir, 'train-images.idx3-ubyte'), [1, 1, 1], [0]);
    assert.equal(findIdxFile(dir, 'train-images-idx3-ubyte'), path.join(dir, 'train-images.idx3-ubyte'));
    assert.equal(findIdxFile(dir, 'train-labels-idx1-ubyte'), null);
  });

  it('lists the missing files of an incomplete folder, and reports a missing folder', () => {
    writeSplitDir(dir, { skip: ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte'] });
    assert.throws(
      () => loadIdxDir(dir, DIGITS, 'Do the fix.'),
      (err: Error) => {
        assert.match(err.message, /is missing train-labels-idx1-ubyte\[\.gz\], t10k-images-idx3-ubyte\[\.gz\] /);
        assert.doesNotMatch(err.message, /missing train-images/);
        assert.match(err.message, /Do the fix\.$/);
        return true;
      },
    );
    assert.throws(() => loadIdxDir(path.join(dir, 'nope'), DIGITS, 'Do the fix.'), /nope does not exist\. Do the fix\./);
  });
});
