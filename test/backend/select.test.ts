import assert from 'assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/lib/backend/tf';
import { backendInfo, BackendInfo, describeBackend, initBackend, resetBackendForTests } from '../../src/lib/backend/select';
import { wasmThreadsRequested } from '../../src/lib/backend/wasm-threads';

const ENV = 'DIFFUSION_BACKEND';

/** Runs `fn` and returns what it wrote to stderr. */
async function captureStderr<T>(fn: () => Promise<T>): Promise<{ result: T; stderr: string }> {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

function setEnv(value: string | undefined): void {
  if (value === undefined) delete process.env[ENV];
  else process.env[ENV] = value;
}

interface FakeNative {
  /** package name -> whether its backend reports a GPU device */
  packages: Record<string, boolean>;
  /** version of the @tensorflow/tfjs-core the fake @tensorflow/tfjs depends on */
  coreVersion: string;
  /** the native library fails to load, as when libtensorflow is missing */
  broken?: boolean;
}

/**
 * A folder with fake @tensorflow/tfjs-node(-gpu) packages laid out as npm installs the real ones:
 * tfjs-node -> @tensorflow/tfjs -> @tensorflow/tfjs-core. Loading one registers a 'tensorflow'
 * backend, as the real package does. With coreVersion equal to ours, tfjs-core resolves to our
 * own copy (one instance); otherwise to a separate copy of that version.
 */
function makeFakeNative(root: string, fake: FakeNative): void {
  const ours = require.resolve('@tensorflow/tfjs-core');
  const write = (rel: string, text: string): void => {
    const file = path.join(root, 'node_modules', rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  const shared = fake.coreVersion === tf.version_core;
  write('@tensorflow/tfjs-core/package.json', JSON.stringify({ name: '@tensorflow/tfjs-core', version: fake.coreVersion, main: shared ? ours : 'index.js' }));
  write('@tensorflow/tfjs-core/index.js', '');
  write('@tensorflow/tfjs/package.json', JSON.stringify({ name: '@tensorflow/tfjs', version: fake.coreVersion }));
  write('@tensorflow/tfjs/index.js', '');
  for (const [name, gpu] of Object.entries(fake.packages)) {
    write(`${name}/package.json`, JSON.stringify({ name, version: tf.version_core }));
    const fail = fake.broken ? "throw new Error('libtensorflow.so.2: cannot open shared object file');\n" : '';
    write(
      `${name}/index.js`,
      `${fail}const tf = require(${JSON.stringify(ours)});
class FakeNativeBackend extends tf.KernelBackend {
  constructor() { super(); this.isUsingGpuDevice = ${gpu}; }
  dispose() {}
}
tf.registerBackend('tensorflow', () => new FakeNativeBackend(), 3);
tf.setBackend('tensorflow');
`,
    );
  }
}

describe('initBackend', () => {
  const savedEnv = process.env[ENV];
  let tmp: string;

  beforeEach(() => {
    setEnv(undefined);
    resetBackendForTests();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'diffusion-backend-'));
  });

  afterEach(async () => {
    if (tf.findBackendFactory('tensorflow') !== null) tf.removeBackend('tensorflow');
    fs.rmSync(tmp, { recursive: true, force: true });
    setEnv(undefined);
    resetBackendForTests();
  });

  after(async () => {
    setEnv(savedEnv);
    // Leave the process as other test files expect it: wasm, chosen by initBackend.
    resetBackendForTests();
    await initBackend({ quiet: true });
  });

  it('picks wasm with SIMD here, reports it and prints one line', async () => {
    const { result: info, stderr } = await captureStderr(() => initBackend());
    // One thread per core by default (DIFFUSION_WASM_THREADS overrides it; wasm-threads.test.ts).
    const threads = wasmThreadsRequested();
    const expected: BackendInfo = {
      name: 'wasm',
      package: '@tensorflow/tfjs-backend-wasm',
      version: tf.version_core,
      threads,
      simd: true,
      gpu: false,
      forced: false,
    };
    assert.deepEqual(info, expected);
    assert.equal(tf.getBackend(), 'wasm');
    const described = `wasm (SIMD, ${threads} thread${threads === 1 ? '' : 's'})`;
    assert.equal(stderr, `[diffusion] backend: ${described} @tensorflow/tfjs-backend-wasm ${tf.version_core}\n`);
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined);
  });

  it('is idempotent: later and concurrent calls return the same info and print nothing', async () => {
    const [a, b] = await Promise.all([initBackend({ quiet: true }), initBackend({ quiet: true })]);
    assert.equal(a, b);
    const { result: c, stderr } = await captureStderr(() => initBackend({ backend: 'wasm' }));
    assert.equal(c, a);
    assert.equal(stderr, '');
    assert.equal(backendInfo(), a);
  });

  it('prints nothing when quiet', async () => {
    const { stderr } = await captureStderr(() => initBackend({ quiet: true }));
    assert.equal(stderr, '');
  });

  it('backendInfo throws before initBackend', () => {
    assert.throws(() => backendInfo(), /await initBackend\(\)/);
  });

  it('DIFFUSION_BACKEND=cpu forces cpu', async () => {
    setEnv('cpu');
    const { result: info, stderr } = await captureStderr(() => initBackend());
    assert.equal(info.name, 'cpu');
    assert.equal(info.package, '@tensorflow/tfjs-backend-cpu');
    assert.equal(info.forced, true);
    assert.equal(tf.getBackend(), 'cpu');
    // One line only: the cpu backend's own multi-line advert is suppressed.
    tf.dispose(tf.add(tf.scalar(1), tf.scalar(2)));
    assert.equal(stderr, `[diffusion] backend: cpu (1 thread) @tensorflow/tfjs-backend-cpu ${tf.version_core} [DIFFUSION_BACKEND=cpu]\n`);
  });

  it('the backend option wins over DIFFUSION_BACKEND', async () => {
    setEnv('cpu');
    const info = await initBackend({ backend: 'wasm', quiet: true });
    assert.equal(info.name, 'wasm');
    assert.equal(info.forced, true);
  });

  it('rejects a different explicit choice after the backend is chosen', async () => {
    await initBackend({ quiet: true });
    await assert.rejects(initBackend({ backend: 'cpu' }), /already wasm.*restart/s);
  });

  it('rejects an unknown DIFFUSION_BACKEND value, listing the valid ones', async () => {
    setEnv('gpu');
    await assert.rejects(initBackend({ quiet: true }), /DIFFUSION_BACKEND=gpu is not a backend.*tensorflow-gpu, tensorflow, wasm, cpu, auto/);
  });

  it('a forced tensorflow backend that is not installed fails naming the npm package', async () => {
    resetBackendForTests({ searchFrom: tmp });
    setEnv('tensorflow');
    await assert.rejects(initBackend({ quiet: true }), /not installed.*npm install --no-save @tensorflow\/tfjs-node@4\.22\.0/);
    setEnv('tensorflow-gpu');
    await assert.rejects(
      initBackend({ quiet: true }),
      /npm install --no-save @tensorflow\/tfjs-node-gpu@4\.22\.0.*CUDA 11\.2 and cuDNN 8\.1.*again after every npm ci/,
    );
    // A failed attempt leaves no state behind: auto still works afterwards.
    setEnv(undefined);
    assert.equal((await initBackend({ quiet: true })).name, 'wasm');
  });

  it('auto prefers an installed tfjs-node-gpu, then tfjs-node', async () => {
    makeFakeNative(tmp, {
      packages: { '@tensorflow/tfjs-node-gpu': true, '@tensorflow/tfjs-node': false },
      coreVersion: tf.version_core,
    });
    resetBackendForTests({ searchFrom: tmp });
    const { result: info, stderr } = await captureStderr(() => initBackend());
    assert.equal(info.name, 'tensorflow');
    assert.equal(info.package, '@tensorflow/tfjs-node-gpu');
    assert.equal(info.gpu, true);
    assert.equal(info.forced, false);
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.equal(stderr, `[diffusion] backend: tensorflow (GPU) @tensorflow/tfjs-node-gpu ${tf.version_core}\n`);
  });

  it('DIFFUSION_BACKEND=tensorflow loads tfjs-node when it is installed', async () => {
    makeFakeNative(tmp, {
      packages: { '@tensorflow/tfjs-node-gpu': true, '@tensorflow/tfjs-node': false },
      coreVersion: tf.version_core,
    });
    resetBackendForTests({ searchFrom: tmp });
    setEnv('tensorflow');
    const info = await initBackend({ quiet: true });
    assert.equal(info.package, '@tensorflow/tfjs-node');
    assert.equal(info.gpu, false);
    assert.equal(info.forced, true);
    assert.equal(info.threads, os.availableParallelism());
    assert.equal(describeBackend(info), `tensorflow (CPU, ${info.threads} threads) @tensorflow/tfjs-node ${tf.version_core}`);
  });

  it('an installed tfjs-node that fails to load is an error, not a silent fallback', async () => {
    makeFakeNative(tmp, { packages: { '@tensorflow/tfjs-node': false }, coreVersion: tf.version_core, broken: true });
    resetBackendForTests({ searchFrom: tmp });
    await assert.rejects(initBackend({ quiet: true }), /tfjs-node 4\.22\.0 is installed but failed to load: libtensorflow.*DIFFUSION_BACKEND=wasm/);
  });

  it('refuses a tfjs-node whose tfjs-core version differs from ours, saying how to fix it', async () => {
    makeFakeNative(tmp, { packages: { '@tensorflow/tfjs-node': false }, coreVersion: '4.0.0' });
    resetBackendForTests({ searchFrom: tmp });
    await assert.rejects(
      initBackend({ quiet: true }),
      /loads @tensorflow\/tfjs-core 4\.0\.0.*uses @tensorflow\/tfjs-core 4\.22\.0.*npm install --no-save @tensorflow\/tfjs-node@4\.22\.0 /s,
    );
    assert.equal(tf.findBackendFactory('tensorflow'), null, 'the mismatched package must not be loaded');
  });
});

describe('describeBackend', () => {
  it('formats each kind of backend on one line', () => {
    const base = { version: '4.22.0', gpu: false, simd: false, forced: false };
    assert.equal(
      describeBackend({ ...base, name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', threads: 4, simd: true }),
      'wasm (SIMD, 4 threads) @tensorflow/tfjs-backend-wasm 4.22.0',
    );
    assert.equal(
      describeBackend({ ...base, name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', threads: 1 }),
      'wasm (no SIMD, 1 thread) @tensorflow/tfjs-backend-wasm 4.22.0',
    );
    assert.equal(
      describeBackend({ ...base, name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu', threads: 8, gpu: true }),
      'tensorflow (GPU) @tensorflow/tfjs-node-gpu 4.22.0',
    );
  });
});
