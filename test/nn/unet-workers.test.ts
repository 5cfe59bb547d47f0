import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { backendInfo } from '../../src/lib/backend/select';
import { SAMPLE_WORKERS_ENV_VAR, sampleWorkerCount, UNetWorkers } from '../../src/lib/nn/unet-workers';
import { Rng } from '../../src/lib/random';
import { ddpmSample } from '../../src/lib/sample';
import { ddpmSchedule } from '../../src/lib/noise-schedules';
import { createModel } from '../../src/lib/train/networks';
import { useDefaultBackend } from '../helpers';
import { overrideRuntimeOptions, parseRuntimeOptions } from '../../src/lib/runtime-options';

describe('UNet workers (sampling on every core)', function () {
  this.timeout(120000);
  before(useDefaultBackend);

  it("give the model's own outputs, bit for bit, for any split of the images", () => {
    // D = 8: the SIMD and Winograd convs; 5 images do not split evenly; the weights are moved off
    // their initialisation (and the BatchNorm statistics too) so the copy must really be sent.
    const model = createModel({ kind: 'class', hidden: 8, seed: 3 });
    const rng = new Rng(5);
    for (const [, v] of model.stateEntries()) v.assign(tf.add(v, tf.mul(tf.tensor(rng.normalArray(v.size), v.shape), 0.1)));
    const n = 5;
    const x = rng.normalArray(n * 784);
    const t = new Float32Array(n).map((_, i) => i / n);
    const c = new Float32Array(n * 10).map((_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0));
    const expected = tf.tidy(
      () =>
        model
          .forward({
            x: tf.tensor4d(x, [n, 28, 28, 1]),
            t: tf.tensor2d(t, [n, 1]),
            c: tf.tensor2d(c, [n, 10]),
          })
          .dataSync() as Float32Array,
    );
    for (const workers of [2, 3]) {
      const pool = UNetWorkers.start(model, workers, backendInfo().name, 4); // capacity 4: two rounds
      try {
        assert.deepEqual(pool.forward(x, n, t, c), expected, `${workers} workers`);
      } finally {
        pool.close();
      }
    }
    model.dispose();
  });

  it('ddpmSample gives the same samples with workers as without', () => {
    const schedule = ddpmSchedule(6);
    const cls = createModel({ kind: 'class', hidden: 8, seed: 0 });
    const classes = [3, 1, 4, 1, 5];
    const here = ddpmSample({ model: cls, schedule, classes, rng: new Rng(2), workers: 0 });
    const there = ddpmSample({ model: cls, schedule, classes, rng: new Rng(2), workers: 2 });
    assert.deepEqual(there.images, here.images);
    const time = createModel({ kind: 'time', hidden: 8, seed: 0 });
    assert.deepEqual(
      ddpmSample({ model: time, schedule, count: 3, rng: new Rng(4), workers: 2 }).images,
      ddpmSample({ model: time, schedule, count: 3, rng: new Rng(4), workers: 0 }).images,
    );
    cls.dispose();
    time.dispose();
  });

  it('check their inputs, and a closed pool says so', () => {
    const model = createModel({ kind: 'time', hidden: 4, seed: 0 });
    const pool = UNetWorkers.start(model, 2, backendInfo().name);
    assert.throws(() => pool.forward(new Float32Array(784), 2, new Float32Array(2)), /x has 784 values, 2 images need 1568/);
    assert.throws(() => pool.forward(new Float32Array(784), 1), /needs t with 1 values/);
    pool.close();
    assert.throws(() => pool.forward(new Float32Array(784), 1, new Float32Array(1)), /failed or was closed/);
    model.dispose();
  });

  it('a worker that cannot start is a clear error, not a hang', function () {
    // The native TensorFlow backend is not installed here (nor on CI): its start fails in the worker.
    if (backendInfo().name !== 'wasm') this.skip();
    const model = createModel({ kind: 'time', hidden: 4, seed: 0 });
    assert.throws(() => UNetWorkers.start(model, 2, 'tensorflow'), /Could not start the UNet workers: .*tfjs-node/s);
    model.dispose();
  });

  it('count: explicit, else DIFFUSION_SAMPLE_WORKERS, else one per core on wasm only; bad values are errors', () => {
    const restore = overrideRuntimeOptions({ sampleWorkers: null });
    try {
      assert.equal(sampleWorkerCount('wasm', 3), 3);
      assert.equal(sampleWorkerCount('wasm', 1), 0);
      assert.equal(sampleWorkerCount('tensorflow'), 0);
      assert.equal(sampleWorkerCount('cpu'), 0);
      overrideRuntimeOptions({ sampleWorkers: 2 });
      assert.equal(sampleWorkerCount('tensorflow'), 2);
      assert.throws(() => parseRuntimeOptions({ [SAMPLE_WORKERS_ENV_VAR]: 'many' }), /DIFFUSION_SAMPLE_WORKERS=many is not a worker count/);
      assert.throws(() => sampleWorkerCount('wasm', -1), /whole number/);
    } finally {
      restore();
    }
  });
});
