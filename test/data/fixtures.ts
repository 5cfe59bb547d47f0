/** Small synthetic IDX files for the data tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `diffusion-ts-${prefix}-`));
}

/** The bytes of an IDX file of unsigned bytes with the given dimensions. */
export function idxBytes(dims: number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(data))]);
}

export function writeIdx(file: string, dims: number[], data: ArrayLike<number>, gzip = false): void {
  const bytes = idxBytes(dims, data);
  fs.writeFileSync(file, gzip ? zlib.gzipSync(bytes) : bytes);
}

/** count images of height x width with recognisable bytes, and labels i % classes. */
export function syntheticImages(count: number, height: number, width: number): Uint8Array {
  const data = new Uint8Array(count * height * width);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) % 256;
  return data;
}

export function syntheticLabels(count: number, classes: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => i % classes);
}

/** Writes the four standard files (train: trainCount, test: testCount images of 4x3). */
export function writeSplitDir(dir: string, opts: { gzip?: boolean; trainCount?: number; testCount?: number; skip?: string[] } = {}): void {
  const [h, w] = [4, 3];
  const sets: [string, number][] = [
    ['train', opts.trainCount ?? 20],
    ['t10k', opts.testCount ?? 10],
  ];
  const suffix = opts.gzip ? '.gz' : '';
  for (const [prefix, n] of sets) {
    const images = `${prefix}-images-idx3-ubyte`;
    const labels = `${prefix}-labels-idx1-ubyte`;
    if (!opts.skip?.includes(images)) writeIdx(path.join(dir, images + suffix), [n, h, w], syntheticImages(n, h, w), opts.gzip);
    if (!opts.skip?.includes(labels)) writeIdx(path.join(dir, labels + suffix), [n], syntheticLabels(n, 10), opts.gzip);
  }
}
