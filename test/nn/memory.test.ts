import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { Rng } from '../../src/lib/random';
import { ddpmSchedule } from '../../src/lib/noise-schedules';
import { trainConfigFor } from '../../src/writeup/profiles';
import { Adam } from '../../src/lib/train/adam';
import { drawBatch } from '../../src/lib/train/objectives';
import { trainStep } from '../../src/lib/train/trainer';
import { createModel } from '../../src/lib/train/networks';
import { useDefaultBackend } from '../helpers';

describe('memory across training steps', function () {
  this.timeout(60000);
  before(useDefaultBackend);

  for (const [kind, micro] of [
    ['denoiser', 1],
    ['class', 2],
  ] as const) {
    it(`${kind} UNet: tf.memory().numTensors is the same after each of 20 steps (micro-batch ${micro} of 2)`, () => {
      const config = trainConfigFor(kind, 'smoke', { hidden: 2, batchSize: 2, T: 20 });
      const schedule = kind === 'denoiser' ? null : ddpmSchedule(config.T);
      const model = createModel(config);
      const optimizer = new Adam(model.namedParameters(), { lr: 1e-3 });
      const rng = new Rng(2);
      const images = new Float32Array(2 * 784).map(() => rng.uniform());
      const labels = new Uint8Array([1, 2]);
      const step = () => trainStep(model, optimizer, config, schedule, drawBatch(config, images, labels, rng), micro);
      step();
      const counts: number[] = [];
      for (let i = 0; i < 20; i++) {
        assert.ok(Number.isFinite(step()));
        counts.push(tf.memory().numTensors);
      }
      assert.deepEqual(counts, new Array(20).fill(counts[0]));
      // And sampling-mode forward passes leave nothing behind either.
      const before = tf.memory().numTensors;
      tf.tidy(
        () =>
          void model.forward({
            x: tf.zeros([2, 28, 28, 1]) as tf.Tensor4D,
            t: kind === 'denoiser' ? undefined : (tf.fill([2, 1], 0.5) as tf.Tensor2D),
            c: kind === 'class' ? (tf.zeros([2, 10]) as tf.Tensor2D) : undefined,
          }),
      );
      assert.equal(tf.memory().numTensors, before);
      model.dispose();
      optimizer.dispose();
    });
  }
});
