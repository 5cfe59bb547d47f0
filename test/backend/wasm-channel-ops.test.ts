import assert from 'assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/lib/backend/tf';
import { initBackend } from '../../src/lib/backend/select';
import { relativeError, uniformValues } from '../helpers';
import { overrideRuntimeOptions } from '../../src/lib/runtime-options';

async function use(backend: 'cpu' | 'wasm'): Promise<void> {
  assert.ok(await tf.setBackend(backend));
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/** Runs `f` on random inputs of `shapes` on cpu and on wasm; returns both results, flattened. */
async function onBoth(shapes: number[][], f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) {
  const run = async (backend: 'cpu' | 'wasm') => {
    await use(backend);
    return tf.tidy(() => {
      const xs = shapes.map((s, i) =>
        tf.tensor(
          uniformValues(
            s.reduce((a, b) => a * b, 1),
            i + 1,
          ),
          s,
        ),
      );
      const out = f(xs);
      return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
    });
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return { cpu, wasm };
}

function assertSame(r: Awaited<ReturnType<typeof onBoth>>, what: string): void {
  assert.equal(r.wasm.length, r.cpu.length, what);
  r.wasm.forEach((w, i) => {
    assert.deepEqual(w.shape, r.cpu[i].shape, `${what}: output ${i} shape`);
    const err = relativeError(w.data, r.cpu[i].data);
    assert.ok(err < 1e-5, `${what}: output ${i} relative error ${err}`);
  });
}

describe('wasm Concat, SplitV and Sum along channels (SIMD)', function () {
  this.timeout(30000);
  before(async () => {
    await initBackend({ quiet: true });
  });
  after(async () => {
    await use('wasm');
  });

  for (const simd of [true, false]) {
    const label = simd ? 'SIMD' : "the backend's own kernels";
    it(`match the cpu backend, including the cases they leave to the original (${label})`, async () => {
      const restore = overrideRuntimeOptions({ simdKernels: simd });
      try {
        // Concat: last axis (SIMD), negative axis, another axis and odd channels (the original).
        assertSame(
          await onBoth(
            [
              [2, 3, 5, 4],
              [2, 3, 5, 8],
              [2, 3, 5, 12],
            ],
            (xs) => tf.concat(xs, 3),
          ),
          'concat last axis',
        );
        assertSame(
          await onBoth(
            [
              [6, 8],
              [6, 4],
            ],
            (xs) => tf.concat(xs, -1),
          ),
          'concat axis -1',
        );
        assertSame(
          await onBoth(
            [
              [2, 3, 5, 4],
              [2, 4, 5, 4],
            ],
            (xs) => tf.concat(xs, 1),
          ),
          'concat axis 1',
        );
        assertSame(
          await onBoth(
            [
              [2, 3, 5, 3],
              [2, 3, 5, 4],
            ],
            (xs) => tf.concat(xs, 3),
          ),
          'concat 3 + 4 channels',
        );
        // SplitV: sizes, equal parts, -1, another axis, odd sizes.
        assertSame(await onBoth([[2, 3, 5, 24]], ([x]) => tf.split(x, [8, 4, 12], 3)), 'split 8/4/12');
        assertSame(await onBoth([[4, 16]], ([x]) => tf.split(x, 2, -1)), 'split in 2');
        assertSame(await onBoth([[3, 2, 20]], ([x]) => tf.split(x, [8, -1], 2)), 'split with -1');
        assertSame(await onBoth([[2, 6, 5, 8]], ([x]) => tf.split(x, [2, 4], 1)), 'split axis 1');
        assertSame(await onBoth([[2, 3, 5, 6]], ([x]) => tf.split(x, [3, 3], 3)), 'split 3/3');
        // Sum over all axes but the last (SIMD), keepDims, unordered axes, others (the original).
        assertSame(await onBoth([[4, 7, 7, 16]], ([x]) => tf.sum(x, [0, 1, 2])), 'sum N,H,W');
        assertSame(await onBoth([[4, 7, 7, 16]], ([x]) => tf.sum(x, [2, 0, 1], true)), 'sum keepDims');
        assertSame(await onBoth([[4, 7, 7, 16]], ([x]) => tf.sum(x, [0, 1])), 'sum N,H');
        assertSame(await onBoth([[4, 7, 7, 6]], ([x]) => tf.sum(x, [0, 1, 2])), 'sum 6 channels');
        assertSame(await onBoth([[4, 7, 7, 16]], ([x]) => tf.sum(x)), 'sum of all');
        // The gradient of a concat (a split) and of a bias (a sum), through autodiff.
        // The gradients of a concat (a split) and of a broadcast bias (a sum), through autodiff.
        assertSame(
          await onBoth([[2, 3, 3, 8], [2, 3, 3, 4], [2, 3, 3, 12], [12]], ([a, b, w, bias]) => {
            const loss = (p: tf.Tensor, q: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.concat([p, q], 3), c), w)) as tf.Scalar;
            return tf.grads(loss)([a, b, bias]);
          }),
          'gradients',
        );
      } finally {
        restore();
      }
    });
  }
});

describe('wasm Identity', () => {
  before(async () => {
    await initBackend({ quiet: true });
    await use('wasm');
  });

  it('shares the input memory instead of copying it, and keeps it until both are disposed', () => {
    const backend = tf.backend();
    const x = tf.tensor(uniformValues(24, 5), [2, 3, 4]);
    const values = x.dataSync().slice();
    const before = backend.numDataIds();
    const y = tf.engine().runKernel<tf.Tensor>(tf.Identity, { x }, {});
    assert.equal(backend.numDataIds(), before); // no new buffer
    assert.deepEqual(y.shape, [2, 3, 4]);
    x.dispose();
    assert.deepEqual(y.dataSync(), values); // still there after the input is gone
    y.dispose();
    assert.equal(backend.numDataIds(), before - 1);
  });

  it('gives the same gradients through tf.clone (Identity) as cpu', async () => {
    const r = await onBoth([[3, 4]], ([x]) => {
      const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.clone(a), tf.clone(tf.square(a))));
      return tf.grad(f)(x);
    });
    assertSame(r, 'gradient through clone');
  });
});
