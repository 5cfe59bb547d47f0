import assert from 'assert/strict';
import { tf } from '../src/lib/backend/tf';
import { Rng } from '../src/lib/random';
import { ddpmSample, samplingTimesteps } from '../src/lib/sample';
import { ddpmSchedule } from '../src/lib/noise-schedules';
import { createModel } from '../src/lib/train/networks';
import { useDefaultBackend } from './helpers';

describe('DDPM sampling (Algorithms B.2 and B.4)', () => {
  before(useDefaultBackend);
  const schedule = ddpmSchedule(10);

  it('the same seed gives the same samples; another seed others', () => {
    const model = createModel({ kind: 'class', hidden: 4, seed: 0 });
    const a = ddpmSample({ model, schedule, classes: [1, 2, 3], rng: new Rng(9) });
    const b = ddpmSample({ model, schedule, classes: [1, 2, 3], rng: new Rng(9) });
    const c = ddpmSample({ model, schedule, classes: [1, 2, 3], rng: new Rng(10) });
    assert.deepEqual(a.images, b.images);
    assert.notDeepEqual(a.images, c.images);
    assert.equal(a.images.length, 3 * 784);
    model.dispose();
  });

  it('follows the B.2 update: with eps = 0 and T = 1, x_0 = x_T / sqrt(abar_1)', () => {
    // At t = 1: abar_0 = 1, so the x0_hat coefficient is beta_1 / (1 - abar_1) = 1, the x_t one is 0, and z = 0.
    const model = createModel({ kind: 'time', hidden: 4, seed: 0 });
    for (const [name, v] of model.namedParameters()) if (name.startsWith('out_conv.')) v.assign(tf.zerosLike(v));
    const s = ddpmSchedule(1, 0.3, 0.3);
    const xT = new Rng(4).normalArray(784);
    const r = ddpmSample({ model, schedule: s, count: 1, rng: new Rng(4) });
    const abar = s.alphasCumprod[1];
    for (let i = 0; i < 784; i++) assert.ok(Math.abs(r.images[i] - xT[i] / Math.sqrt(abar)) < 1e-4 * Math.max(1, Math.abs(r.images[i])));
    model.dispose();
  });

  it('captures frames for an animation and reports progress', () => {
    const model = createModel({ kind: 'time', hidden: 4, seed: 0 });
    const steps: number[] = [];
    const r = ddpmSample({ model, schedule, count: 2, rng: new Rng(1), captureEvery: 5, onStep: (d) => steps.push(d) });
    assert.deepEqual(
      r.frames.map((f) => f.t),
      [10, 5, 0],
    );
    assert.equal(steps.length, 10);
    model.dispose();
  });

  it('samples in fewer steps, evenly spaced from T to 0; steps = T is every timestep', () => {
    assert.deepEqual(samplingTimesteps(10, 10), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    assert.deepEqual(samplingTimesteps(10, 5), [10, 8, 6, 4, 2, 0]);
    assert.deepEqual(samplingTimesteps(300, 100).slice(0, 3), [300, 297, 294]);
    assert.deepEqual(samplingTimesteps(10, 3), [10, 7, 3, 0]);
    const model = createModel({ kind: 'time', hidden: 4, seed: 0 });
    const seen: number[] = [];
    const all = ddpmSample({ model, schedule, count: 2, rng: new Rng(5) });
    const same = ddpmSample({ model, schedule, count: 2, rng: new Rng(5), steps: 10 });
    const fewer = ddpmSample({ model, schedule, count: 2, rng: new Rng(5), steps: 5, captureEvery: 1, onStep: (d) => seen.push(d) });
    assert.deepEqual(same.images, all.images);
    assert.equal(all.steps, 10);
    assert.equal(fewer.steps, 5);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.deepEqual(
      fewer.frames.map((f) => f.t),
      [10, 8, 6, 4, 2, 0],
    );
    assert.notDeepEqual(fewer.images, all.images);
    assert.throws(
      () => ddpmSample({ model, schedule, count: 1, rng: new Rng(0), steps: 11 }),
      /steps must be a whole number from 1 to the schedule's T = 10, got 11/,
    );
    assert.throws(() => ddpmSample({ model, schedule, count: 1, rng: new Rng(0), steps: 2.5 }), /steps must be a whole number/);
    model.dispose();
  });

  it('a model trained on [-1, 1] pixels: samples and frames come back as [0, 1] pixels', () => {
    const model = createModel({ kind: 'time', hidden: 4, seed: 0 });
    const unit = ddpmSample({ model, schedule, count: 2, rng: new Rng(6), captureEvery: 5 });
    const symmetric = ddpmSample({ model, schedule, count: 2, rng: new Rng(6), captureEvery: 5, pixelRange: 'symmetric' });
    // The same network and noise: only the reading of its output differs, v -> (v + 1) / 2.
    for (let i = 0; i < unit.images.length; i += 97) assert.ok(Math.abs(symmetric.images[i] - (unit.images[i] + 1) / 2) < 1e-6);
    const f = symmetric.frames[1].images;
    const g = unit.frames[1].images;
    for (let i = 0; i < f.length; i += 97) assert.ok(Math.abs(f[i] - (g[i] + 1) / 2) < 1e-6);
    model.dispose();
  });

  it('leaves no tensors behind, and chunks give the samples one batch gives', () => {
    const model = createModel({ kind: 'class', hidden: 4, seed: 0 });
    const before = tf.memory().numTensors;
    const one = ddpmSample({ model, schedule, classes: [1, 2, 3, 4, 5], rng: new Rng(3), workers: 0 });
    const chunked = ddpmSample({ model, schedule, classes: [1, 2, 3, 4, 5], rng: new Rng(3), workers: 0, chunk: 2 });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(chunked.images, one.images);
    assert.equal(one.size, 28);
    model.dispose();
  });

  it('bad inputs are clear errors', () => {
    const cls = createModel({ kind: 'class', hidden: 4, seed: 0 });
    assert.throws(() => ddpmSample({ model: cls, schedule, classes: [12], rng: new Rng(0) }), /Unknown class 12/);
    assert.throws(() => ddpmSample({ model: cls, schedule, rng: new Rng(0) }), /needs `classes`/);
    const den = createModel({ kind: 'denoiser', hidden: 4, seed: 0 });
    assert.throws(() => ddpmSample({ model: den, schedule, count: 1, rng: new Rng(0) }), /time- or class-conditioned/);
    cls.dispose();
    den.dispose();
  });
});
