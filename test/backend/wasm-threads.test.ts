import assert from 'assert/strict';
import { execFile } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { tf } from '../../src/lib/backend/tf';
import { backendInfo, initBackend } from '../../src/lib/backend/select';
import { relativeError } from '../helpers';
import { WASM_MAX_THREADS, WASM_THREADS_ENV_VAR, wasmThreadsRequested, workerScriptSource } from '../../src/lib/backend/wasm-threads';
import { RuntimeOptionError } from '../../src/lib/runtime-options';

const SELECT = path.join(__dirname, '../../src/lib/backend/select.js');
const TF = path.join(__dirname, '../../src/lib/backend/tf.js');

/**
 * A child process that starts the backend with DIFFUSION_WASM_THREADS=threads and computes a
 * forward and backward pass through strided convolutions, a transposed convolution and a matMul
 * (the XNNPACK kernels that threads split), then prints the reported threads and the results.
 * It ends without process.exit, so it only exits if the pthread workers let Node go.
 */
const CHILD = `
const { initBackend } = require(${JSON.stringify(SELECT)});
const { tf } = require(${JSON.stringify(TF)});
function values(n, seed) {
  const out = new Float32Array(n); let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 31 - 1; }
  return out;
}
const t = (shape, seed) => tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
(async () => {
  const info = await initBackend({ quiet: true });
  const x = t([4, 16, 16, 24], 1), w1 = t([3, 3, 24, 32], 2), w2 = t([3, 3, 32, 32], 3);
  const w3 = t([4, 4, 24, 32], 4), m = t([32, 40], 5);
  const f = (x, w1, w2, w3, m) => {
    const h = tf.relu(tf.conv2d(x, w1, 1, 'same'));
    const d = tf.conv2d(h, w2, 2, 'same');
    const u = tf.conv2dTranspose(d, w3, [4, 16, 16, 24], 2, 'same');
    const p = tf.matMul(tf.reshape(d, [-1, 32]), m);
    return tf.add(tf.sum(tf.mul(u, u)), tf.sum(tf.mul(p, p)));
  };
  const { value, grads } = tf.valueAndGrads(f)([x, w1, w2, w3, m]);
  const out = { threads: info.threads, value: Array.from(await value.data()) };
  out.grads = [];
  for (const g of grads) out.grads.push(Array.from(await g.data()));
  out.conv = Array.from(await tf.conv2d(x, w1, 1, 'same').data());
  process.stdout.write(JSON.stringify(out));
})();
`;

interface ChildResult {
  threads: number;
  value: number[];
  grads: number[][];
  conv: number[];
}

function runChild(threads: string): Promise<ChildResult> {
  const env = { ...process.env, [WASM_THREADS_ENV_VAR]: threads, DIFFUSION_BACKEND: 'wasm' };
  return new Promise((resolve, reject) => {
    // The timeout turns a process kept alive by its workers into a failure.
    execFile(process.execPath, ['-e', CHILD], { env, timeout: 60_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`child with ${threads} threads failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as ChildResult);
    });
  });
}

describe('wasm threads', () => {
  describe('wasmThreadsRequested', () => {
    it('defaults to the number of cores, at most 8', () => {
      assert.equal(wasmThreadsRequested({}), Math.min(os.availableParallelism(), WASM_MAX_THREADS));
      assert.equal(wasmThreadsRequested({ [WASM_THREADS_ENV_VAR]: ' ' }), wasmThreadsRequested({}));
    });

    it('takes DIFFUSION_WASM_THREADS from 1 to 8', () => {
      assert.equal(wasmThreadsRequested({ [WASM_THREADS_ENV_VAR]: '1' }), 1);
      assert.equal(wasmThreadsRequested({ [WASM_THREADS_ENV_VAR]: '3' }), 3);
      assert.equal(wasmThreadsRequested({ [WASM_THREADS_ENV_VAR]: '8' }), 8);
    });

    it('rejects anything else, saying what is allowed', () => {
      for (const bad of ['0', '9', '1.5', 'two', '-2']) {
        assert.throws(
          () => wasmThreadsRequested({ [WASM_THREADS_ENV_VAR]: bad }),
          (error: Error) =>
            error instanceof RuntimeOptionError &&
            error.message.includes(`${WASM_THREADS_ENV_VAR}=${bad} is not a thread count`) &&
            error.message.includes('from 1 to 8'),
        );
      }
    });
  });

  it('builds a worker script that parses and loads the main script by path', () => {
    const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    const source = workerScriptSource(distDir);
    new vm.Script(source);
    const main = path.join(distDir, '..', 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
    assert.ok(source.includes(JSON.stringify(main)));
  });

  it('initBackend runs the requested number of threads here', async () => {
    await initBackend({ quiet: true });
    const info = backendInfo();
    assert.equal(info.name, 'wasm');
    assert.equal(info.threads, wasmThreadsRequested());
    // threads - 1 emscripten workers run XNNPACK pthreads (the main thread is the other); the
    // idle rest of emscripten's pool has been stopped.
    type Pool = { runningWorkers: unknown[]; unusedWorkers: unknown[] };
    const pool = (tf.backend() as unknown as { wasm: { PThread?: Pool } }).wasm.PThread;
    assert.equal(pool?.runningWorkers.length ?? 0, info.threads - 1);
    assert.equal(pool?.unusedWorkers.length ?? 0, 0);
  });

  it('2 threads give the 1-thread results (1e-5), the same in every run, and let the process exit', async () => {
    const [one, twoA, twoB] = await Promise.all([runChild('1'), runChild('2'), runChild('2')]);
    assert.equal(one.threads, 1);
    assert.equal(twoA.threads, 2);
    assert.equal(twoB.threads, 2);
    assert.deepEqual(twoA, twoB, 'two runs with 2 threads differ');
    assert.ok(relativeError(twoA.value, one.value) < 1e-5);
    assert.ok(relativeError(twoA.conv, one.conv) < 1e-5);
    assert.equal(twoA.grads.length, 5);
    twoA.grads.forEach((g, i) => {
      const error = relativeError(g, one.grads[i]);
      assert.ok(error < 1e-5, `gradient ${i}: relative error ${error}`);
    });
  });
});
