/**
 * Reader for IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic number
 * (0x00, 0x00, element type, number of dimensions), one big-endian uint32 per dimension, then
 * the elements. Only unsigned bytes (type 0x08) are supported, which is what these datasets use.
 * Files may be gzipped; that is detected from the content (1f 8b), not from the name.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import type { ImageDataset } from './dataset';

const UBYTE = 0x08;
export const LABELS_MAGIC = 0x00000801;
export const IMAGES_MAGIC = 0x00000803;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

const REPLACE = 'Delete it and download it again, or point to a folder with complete copies.';

/** Parses the bytes of an IDX file (raw or gzipped); `name` is used in error messages. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (isGzip(bytes)) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (err) {
      throw new Error(`IDX file ${name} is gzip-compressed but cannot be decompressed (${message(err)}): it is corrupt or incomplete. ${REPLACE}`, {
        cause: err,
      });
    }
  }
  if (bytes.length < 4) {
    throw new Error(`IDX file ${name} is truncated: expected at least a 4-byte header, found ${bytes.length} bytes. ${REPLACE}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const ndims = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== UBYTE || ndims < 1) {
    throw new Error(
      `${name} is not an IDX file of unsigned bytes: its magic number is ${hex32(magic)}, expected ` +
        `${hex32(LABELS_MAGIC)} (labels) or ${hex32(IMAGES_MAGIC)} (images). Check the path; if it is right, ${REPLACE}`,
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(`IDX file ${name} is truncated: its ${ndims}-dimensional header needs ${headerBytes} bytes, found ${bytes.length}. ${REPLACE}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'longer than its header says';
    throw new Error(`IDX file ${name} is ${what}: dimensions [${dims.join(', ')}] need ${expected} bytes, found ${bytes.length}. ${REPLACE}`);
  }
  return { dims, data: bytes.subarray(headerBytes, expected) };
}

export function readIdxFile(file: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`Cannot read IDX file ${file}: ${message(err)}`, { cause: err });
  }
  return parseIdx(bytes, file);
}

function expectDims(idx: IdxArray, ndims: number, magic: number, kind: string, file: string): void {
  if (idx.dims.length !== ndims) {
    const found = idx.dims.length === 1 ? 'a label file' : idx.dims.length === 3 ? 'an image file' : `${idx.dims.length}-dimensional`;
    throw new Error(
      `IDX file ${file} should be ${kind} (magic ${hex32(magic)}, ${ndims} dimension${ndims > 1 ? 's' : ''}) ` +
        `but is ${found} (magic ${hex32(0x800 + idx.dims.length)}). Check that the image and label files are not swapped.`,
    );
  }
}

/**
 * Reads an image file and its label file into a dataset: pixels become byte / 255, labels must
 * be below `classes.length`, and both files must hold the same number of items.
 */
export function loadIdxPair(imagesFile: string, labelsFile: string, classes: string[]): ImageDataset {
  const images = readIdxFile(imagesFile);
  expectDims(images, 3, IMAGES_MAGIC, 'an image file', imagesFile);
  const labels = readIdxFile(labelsFile);
  expectDims(labels, 1, LABELS_MAGIC, 'a label file', labelsFile);
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new Error(
      `${imagesFile} holds ${count} images but ${labelsFile} holds ${labels.dims[0]} labels. ` +
        'They must come from the same split (train with train, t10k with t10k); replace the mismatched file.',
    );
  }
  for (let i = 0; i < count; i++) {
    if (labels.data[i] >= classes.length) {
      throw new Error(
        `${labelsFile}: label ${labels.data[i]} at item ${i} is not a valid class (expected 0..${classes.length - 1}). ` +
          'The file belongs to another dataset or is corrupt.',
      );
    }
  }
  const toUnit = new Float32Array(256);
  for (let b = 0; b < 256; b++) toUnit[b] = b / 255;
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = toUnit[images.data[i]];
  return { images: pixels, labels: Uint8Array.from(labels.data), count, height, width, classes };
}

/** The standard file names (as distributed by LeCun, the mirrors, Zalando and Debian). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * The path of `base` in `dir`, raw or gzipped, or null. Also accepts the dotted spelling
 * (train-images.idx3-ubyte) that some re-distributions use.
 */
export function findIdxFile(dir: string, base: string): string | null {
  const dotted = base.replace(/-(idx\d)-/, '.$1-');
  for (const name of [base, `${base}.gz`, dotted, `${dotted}.gz`]) {
    const file = path.join(dir, name);
    if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
  }
  return null;
}

/**
 * Loads the train and test splits from a folder holding the four standard IDX files.
 * A missing folder or missing files are errors that name what is missing and end with `fix`.
 */
export function loadIdxDir(dir: string, classes: string[], fix: string): { train: ImageDataset; test: ImageDataset } {
  if (!fs.existsSync(dir)) throw new Error(`Dataset folder ${dir} does not exist. ${fix}`);
  if (!fs.statSync(dir).isDirectory()) {
    throw new Error(`${dir} is a file, not a dataset folder: give the folder that holds the IDX files. ${fix}`);
  }
  const found: Record<keyof typeof IDX_FILES, string | null> = {
    trainImages: findIdxFile(dir, IDX_FILES.trainImages),
    trainLabels: findIdxFile(dir, IDX_FILES.trainLabels),
    testImages: findIdxFile(dir, IDX_FILES.testImages),
    testLabels: findIdxFile(dir, IDX_FILES.testLabels),
  };
  const missing = (Object.keys(IDX_FILES) as (keyof typeof IDX_FILES)[]).filter((k) => found[k] === null).map((k) => IDX_FILES[k]);
  if (missing.length > 0) {
    throw new Error(
      `Dataset folder ${dir} is missing ${missing.map((m) => `${m}[.gz]`).join(', ')} ` +
        `(it needs all four of ${Object.values(IDX_FILES).join(', ')}, each raw or gzipped). ${fix}`,
    );
  }
  return {
    train: loadIdxPair(found.trainImages!, found.trainLabels!, classes),
    test: loadIdxPair(found.testImages!, found.testLabels!, classes),
  };
}
