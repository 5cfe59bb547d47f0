import assert from 'assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/lib/backend/tf';
import { initBackend } from '../../src/lib/backend/select';
import { fusedKernelsActive, normalCdfPdf } from '../../src/lib/backend/fused-kernels';
import { simdKernelsActive } from '../../src/lib/backend/simd/channel-kernels';
import { relativeError as arrayRelativeError, uniformValues } from '../helpers';
import { batchNormTrain, batchNormTrainReference, channelAffine, gelu, geluReference } from '../../src/lib/backend/fused-ops';
import { overrideRuntimeOptions } from '../../src/lib/runtime-options';

function random(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(
    uniformValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
    shape,
  );
}

/** Relative error of two tensors of the same shape (see test/helpers). */
function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  assert.deepEqual(actual.shape, expected.shape);
  return arrayRelativeError(actual.dataSync(), expected.dataSync());
}

const TOLERANCE = 1e-4;

describe('normal CDF and density tables (GELU)', () => {
  it('match high-precision values within 1e-6, on and between table entries and in the tails', () => {
    // x, Phi(x), phi(x) (scipy.stats.norm)
    const known: Array<[number, number, number]> = [
      [0, 0.5, 0.3989422804014327],
      [1, 0.8413447460685429, 0.24197072451914337],
      [-2, 0.022750131948179195, 0.05399096651318806],
      [0.3, 0.6179114221889526, 0.38138781546052414],
      [-1.234567, 0.10849584847540206, 0.18618464698877413],
      [3.7, 0.9998922002665226, 0.00042478027055075143],
      [-7.9, 1.394517146659261e-15, 1.1187956214351817e-14],
      [-9, 0, 0],
      [12, 1, 0],
    ];
    for (const [x, cdf, pdf] of known) {
      const [c, d] = normalCdfPdf(x);
      assert.ok(Math.abs(c - cdf) < 1e-6, `Phi(${x}) = ${c}, expected ${cdf}`);
      assert.ok(Math.abs(d - pdf) < 1e-6, `phi(${x}) = ${d}, expected ${pdf}`);
    }
    assert.ok(Number.isNaN(normalCdfPdf(NaN)[0]));
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fused GELU and BatchNorm ops (${backend})`, () => {
    before(async () => {
      await initBackend({ quiet: true });
      assert.ok(await tf.setBackend(backend));
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      assert.ok(fusedKernelsActive(), `the fused kernels are not active on ${backend}`);
      assert.ok(simdKernelsActive(), 'the WebAssembly SIMD loops are not available');
    });
    after(async () => {
      await tf.setBackend('wasm');
    });

    // With the WebAssembly SIMD loop, and with the JavaScript one (DIFFUSION_SIMD_KERNELS=0).
    for (const simd of [true, false])
      it(`GELU matches the erf formula, forward and gradient (${simd ? 'SIMD' : 'JavaScript'})`, () => {
        const restore = overrideRuntimeOptions({ simdKernels: simd });
        try {
          assert.equal(simdKernelsActive(), simd);
          tf.tidy(() => {
            // Wide range, including the tails where GELU is tiny or almost the identity.
            const x = random([3, 7, 5, 6], 1, -8, 8);
            const w = random([3, 7, 5, 6], 2);
            assert.ok(relativeError(gelu(x), geluReference(x)) < TOLERANCE);
            const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), w)))(x);
            const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(geluReference(t), w)))(x);
            assert.ok(relativeError(g, gRef) < TOLERANCE, `gradient error ${relativeError(g, gRef)}`);
            // Known values: GELU(0) = 0, GELU(1) = Phi(1) = 0.841345, GELU'(0) = 1/2.
            const known = gelu(tf.tensor1d([0, 1, -1])).dataSync();
            assert.ok(Math.abs(known[0]) < 1e-7 && Math.abs(known[1] - 0.8413447) < 1e-6 && Math.abs(known[2] + 0.1586553) < 1e-6);
            const slope = tf
              .grad((t: tf.Tensor) => tf.sum(gelu(t)))(tf.tensor1d([0]))
              .dataSync()[0];
            assert.ok(Math.abs(slope - 0.5) < 1e-6);
            // Lengths around the SIMD loop's block of 12 (the rest goes through a padded copy).
            for (const n of [1, 4, 11, 12, 13, 25]) {
              const v = random([n], 7 + n, -4, 4);
              assert.ok(relativeError(gelu(v), geluReference(v)) < TOLERANCE, `length ${n}`);
              const gv = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), t)))(v);
              assert.ok(relativeError(gv, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(geluReference(t), t)))(v)) < TOLERANCE, `gradient, length ${n}`);
            }
          });
        } finally {
          restore();
        }
      });

    // Channel counts that are multiples of 4 run the WebAssembly SIMD loops, others JavaScript's.
    for (const c of [3, 8])
      it(`BatchNorm matches tf.moments + arithmetic: output, statistics and all three gradients (C=${c})`, () => {
        tf.tidy(() => {
          // A mean far from 0 checks the variance for cancellation.
          const x = random([4, 5, 6, c], 3, 9, 11);
          const gamma = random([c], 4, 0.5, 2);
          const beta = random([c], 5);
          const w = random([4, 5, 6, c], 6);
          const eps = 1e-5;
          const fused = batchNormTrain(x, gamma, beta, eps);
          const ref = batchNormTrainReference(x, gamma, beta, eps);
          assert.ok(relativeError(fused.y, ref.y) < TOLERANCE);
          assert.ok(relativeError(fused.mean, ref.mean) < TOLERANCE);
          assert.ok(relativeError(fused.variance, ref.variance) < 1e-3); // the reference's float32 variance is itself this coarse
          const loss = (bn: typeof batchNormTrain) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(a, g, b, eps).y, w)) as tf.Scalar;
          const grads = tf.grads(loss(batchNormTrain))([x, gamma, beta]);
          const refGrads = tf.grads(loss(batchNormTrainReference))([x, gamma, beta]);
          for (let i = 0; i < 3; i++) {
            const err = relativeError(grads[i], refGrads[i]);
            assert.ok(err < TOLERANCE, `gradient ${['x', 'gamma', 'beta'][i]}: relative error ${err}`);
          }
        });
      });

    for (const c of [5, 12])
      it(`BatchNorm gradient matches on a centred input (the regime of real activations) (C=${c})`, () => {
        tf.tidy(() => {
          const x = random([8, 7, 7, c], 7, -3, 3);
          const gamma = random([c], 8, 0.5, 2);
          const beta = random([c], 9);
          const w = random([8, 7, 7, c], 10);
          const loss = (bn: typeof batchNormTrain) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(a, g, b, 1e-5).y, w)) as tf.Scalar;
          const grads = tf.grads(loss(batchNormTrain))([x, gamma, beta]);
          const refGrads = tf.grads(loss(batchNormTrainReference))([x, gamma, beta]);
          for (let i = 0; i < 3; i++) assert.ok(relativeError(grads[i], refGrads[i]) < TOLERANCE);
        });
      });

    for (const c of [5, 16])
      it(`channel affine (BatchNorm at eval) matches mul + add, forward and gradient (C=${c})`, () => {
        tf.tidy(() => {
          const x = random([2, 3, 4, c], 11);
          const s = random([c], 12);
          const b = random([c], 13);
          const w = random([2, 3, 4, c], 14);
          assert.ok(relativeError(channelAffine(x, s, b), tf.add(tf.mul(x, s), b)) < TOLERANCE);
          const f = (a: tf.Tensor, sc: tf.Tensor, sh: tf.Tensor) => tf.sum(tf.mul(channelAffine(a, sc, sh), w)) as tf.Scalar;
          const r = (a: tf.Tensor, sc: tf.Tensor, sh: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.mul(a, sc), sh), w)) as tf.Scalar;
          const g = tf.grads(f)([x, s, b]);
          const gr = tf.grads(r)([x, s, b]);
          for (let i = 0; i < 3; i++) assert.ok(relativeError(g[i], gr[i]) < TOLERANCE);
        });
      });

    it('leave no tensors behind (forward + backward in a tidy)', () => {
      const x = random([2, 4, 4, 3], 15);
      const gamma = tf.ones([3]);
      const beta = tf.zeros([3]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        tf.tidy(() => {
          tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(gelu(batchNormTrain(a, g, beta, 1e-5).y)) as tf.Scalar)([x, gamma]);
        });
      }
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, gamma, beta]);
    });
  });
}
