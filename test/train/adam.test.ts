import assert from 'assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/lib/backend/tf';
import { initBackend } from '../../src/lib/backend/select';
import { fusedKernelsActive } from '../../src/lib/backend/fused-kernels';
import { Rng } from '../../src/lib/random';
import { overrideRuntimeOptions } from '../../src/lib/runtime-options';
import { Adam } from '../../src/lib/train/adam';
import { relativeError } from '../helpers';

/** Runs `steps` Adam updates on fresh parameters with the same random gradients; returns params, m, v. */
function runAdam(steps: number, fused: boolean): Float32Array[] {
  const restore = overrideRuntimeOptions({ fusedKernels: fused });
  try {
    assert.equal(fusedKernelsActive(), fused);
    const rng = new Rng(11);
    const shapes = [[3, 3, 4, 5], [5], [17, 9]];
    const params = shapes.map((s, i): [string, tf.Variable] => [
      `p${i}`,
      tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(s.reduce((a, b) => a * b, 1)), s))),
    ]);
    const adam = new Adam(params, { lr: 1e-2 });
    for (let k = 0; k < steps; k++) {
      // Gradients of mixed scales, so v and the bias corrections matter.
      const grads = new Map(
        params.map(
          ([n, p]) =>
            [
              n,
              tf.tensor(
                rng.normalArray(p.size).map((x) => x * 10 ** ((k % 3) - 1)),
                p.shape,
              ),
            ] as [string, tf.Tensor],
        ),
      );
      adam.apply(grads);
      for (const g of grads.values()) g.dispose();
    }
    const out = [...params.map(([, p]) => p), ...adam.stateEntries().map(([, v]) => v)].map((t) => t.dataSync() as Float32Array);
    for (const [, p] of params) p.dispose();
    adam.dispose();
    return out;
  } finally {
    restore();
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`Adam (${backend})`, () => {
    before(async () => {
      await initBackend({ quiet: true });
      assert.ok(await tf.setBackend(backend));
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    });
    after(async () => {
      await tf.setBackend('wasm');
    });

    it('the fused update matches Adam from tf ops over several steps (parameters, m and v)', () => {
      const fused = runAdam(7, true);
      const reference = runAdam(7, false);
      assert.equal(fused.length, reference.length);
      fused.forEach((a, i) => {
        const err = relativeError(a, reference[i]);
        assert.ok(err < 1e-4, `tensor ${i}: relative error ${err}`);
      });
    });

    it('the first step moves every parameter by lr against the sign of its gradient', () => {
      const p = tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 3, 0.5])));
      const adam = new Adam([['w', p]], { lr: 0.1 });
      const g = tf.tensor1d([0.3, -5, 1e-3, -2e-2]);
      adam.apply(new Map([['w', g]]));
      // m / sqrt(v) = g / |g| after bias correction, so the step is lr * sign(g) (eps aside).
      const expected = [0.9, -1.9, 2.9, 0.6];
      Array.from(p.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${v} vs ${expected[i]}`));
      assert.throws(() => adam.apply(new Map()), /no gradient for parameter "w"/);
      p.dispose();
      g.dispose();
      adam.dispose();
    });

    it('leaves no tensors behind', () => {
      runAdam(1, true);
      const before = tf.memory().numTensors;
      runAdam(3, true);
      assert.equal(tf.memory().numTensors, before);
    });
  });
}
