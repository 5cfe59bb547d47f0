import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../src/lib/backend/tf';
import { Rng } from '../src/lib/random';
import { ddpmSample } from '../src/lib/sample';
import { addNoise, denoiseStep, guide, noiseLevels, stepCoefficients, stepNoiseStd } from '../src/lib/scheduler';
import { cosineSchedule, ddpmSchedule } from '../src/lib/noise-schedules';
import { defaultTrainConfig } from '../src/lib/train/config';
import { createModel } from '../src/lib/train/networks';
import { batchLoss, drawBatch } from '../src/lib/train/objectives';
import { useDefaultBackend } from './helpers';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'scheduler');

describe('scheduler: the diffusion maths in one place', () => {
  before(useDefaultBackend);

  it('names its two timestep conventions; in both alpha_t = abar_t / abar_(t-1)', () => {
    const b = ddpmSchedule(300);
    const a = cosineSchedule(1000);
    assert.equal(b.indexing, 'ddpm');
    assert.deepEqual(noiseLevels(b), { first: 1, last: 300 });
    assert.equal(b.alphasCumprod[0], 1);
    assert.equal(a.indexing, 'diffusers');
    assert.deepEqual(noiseLevels(a), { first: 0, last: 999 });
    for (const s of [a, b]) {
      for (const t of [1, 2, 150, 299]) {
        assert.ok(Math.abs(s.alphas[t] - s.alphasCumprod[t] / s.alphasCumprod[t - 1]) < 2e-7, `${s.indexing} t = ${t}`);
        // For a single step the coefficients are the schedule's own alpha_t and beta_t.
        const c = stepCoefficients(s, t, t - 1);
        assert.ok(Math.abs(c.alpha - s.alphas[t]) < 2e-7 && Math.abs(c.beta - s.betas[t]) < 2e-7, `${s.indexing} t = ${t}`);
      }
    }
  });

  it('addNoise: one timestep per image gives what each image gets alone; mismatches are errors', () => {
    const s = cosineSchedule(1000);
    const rng = new Rng(1);
    const x0 = tf.tensor4d(rng.normalArray(3 * 4 * 4 * 3), [3, 4, 4, 3]);
    const eps = tf.tensor4d(rng.normalArray(3 * 4 * 4 * 3), [3, 4, 4, 3]);
    const ts = [0, 500, 999];
    const together = addNoise(x0, eps, ts, s).dataSync();
    ts.forEach((t, i) => {
      const one = (v: tf.Tensor4D) => tf.slice(v, [i, 0, 0, 0], [1, -1, -1, -1]);
      const alone = addNoise(one(x0), one(eps), t, s).dataSync();
      assert.deepEqual(Array.from(together.subarray(i * 48, (i + 1) * 48)), Array.from(alone));
      const abar = s.alphasCumprod[t];
      const expected = Math.sqrt(abar) * x0.dataSync()[i * 48] + Math.sqrt(1 - abar) * eps.dataSync()[i * 48];
      assert.ok(Math.abs(alone[0] - expected) < 1e-6);
    });
    assert.throws(() => addNoise(x0, eps, [1, 2], s), /3 images but 2 timesteps/);
    assert.throws(() => addNoise(x0, eps, 1000, s), /Timestep 1000 is out of range: use an integer from 0 to 999/);
    assert.throws(() => addNoise(x0, tf.zeros([3, 4, 4, 1]) as tf.Tensor4D, 5, s), /noise shape \[3, 4, 4, 1\] differs from image shape \[3, 4, 4, 3\]/);
    tf.dispose([x0, eps]);
  });

  it('a Part B step is SPEC B.2 written out in double precision, with sigma_t = sqrt(beta_t) and no noise at t = 1', () => {
    assert.equal(stepCoefficients(ddpmSchedule(300), 1, 0).x0Coef, 1, 'the last step returns x0_hat itself');
    const s = ddpmSchedule(300);
    const rng = new Rng(2);
    const [x, e, z] = [0, 1, 2].map(() => rng.normalArray(16));
    const tensor = (v: Float32Array) => tf.tensor4d(v, [1, 4, 4, 1]);
    for (const t of [300, 150, 2, 1]) {
      const abar = s.alphasCumprod[t];
      const abarPrev = s.alphasCumprod[t - 1];
      // alpha_t from the float32 abar values, as the scheduler defines it; the stored betas[1] =
      // fround(1e-4) is not 1 - abar_1 (cancellation in float32), which made the old loop's last
      // step scale x0_hat by 1.00015 instead of 1.
      const alpha = abar / abarPrev;
      const beta = 1 - alpha;
      const got = denoiseStep(s, tensor(x), t, t - 1, tensor(e), t > 1 ? tensor(z) : null, { variance: 'beta' }).dataSync();
      for (let i = 0; i < 16; i++) {
        const x0 = (x[i] - Math.sqrt(1 - abar) * e[i]) / Math.sqrt(abar);
        const want =
          ((Math.sqrt(abarPrev) * beta) / (1 - abar)) * x0 + ((Math.sqrt(alpha) * (1 - abarPrev)) / (1 - abar)) * x[i] + (t > 1 ? Math.sqrt(beta) * z[i] : 0);
        assert.ok(Math.abs(got[i] - want) < 2e-5 * Math.max(1, Math.abs(want)), `t = ${t}, pixel ${i}: ${got[i]} vs ${want}`);
      }
    }
    assert.equal(stepNoiseStd(stepCoefficients(s, 10, 9), 'beta'), Math.sqrt(stepCoefficients(s, 10, 9).beta));
  });

  it('guide: gamma 0 is the unconditional estimate, 1 the conditional one', () => {
    const c = tf.tensor4d([1, 2], [1, 1, 2, 1]);
    const u = tf.tensor4d([0, 4], [1, 1, 2, 1]);
    assert.deepEqual(Array.from(guide(c, u, 0).dataSync()), [0, 4]);
    assert.deepEqual(Array.from(guide(c, u, 1).dataSync()), [1, 2]);
    assert.deepEqual(Array.from(guide(c, u, 5).dataSync()), [5, -6]);
    tf.dispose([c, u]);
  });

  describe('against the code before the scheduler module (commit a34c958)', () => {
    it('training losses are the same bits', () => {
      // batchLoss on the same draw, printed by the earlier code: addNoise is the same float32 arithmetic as its qSample.
      const before: Record<string, number> = { time: 0.995103657245636, class: 0.9951027035713196 };
      for (const kind of ['time', 'class'] as const) {
        const cfg = { ...defaultTrainConfig(kind), T: 50 };
        const model = createModel({ kind, hidden: 4, seed: 2 });
        const rng = new Rng(3);
        const images = Float32Array.from({ length: 4 * 784 }, () => rng.uniform());
        const d = drawBatch(cfg, images, Uint8Array.from([1, 2, 3, 4]), new Rng(11));
        const loss = batchLoss(model, cfg, ddpmSchedule(50), d, { training: false });
        assert.equal(loss.dataSync()[0], before[kind], kind);
        loss.dispose();
        model.dispose();
      }
    });

    it('Part B samples agree to 1e-3 after 50 steps (the step now runs as float32 tensor ops, not a double-precision loop)', () => {
      const before = new Float32Array(fs.readFileSync(path.join(FIXTURES, 'ddpm-samples-before.f32')).buffer.slice(0));
      const schedule = ddpmSchedule(50);
      const cls = createModel({ kind: 'class', hidden: 4, seed: 0 });
      const time = createModel({ kind: 'time', hidden: 4, seed: 1 });
      const a = ddpmSample({ model: cls, schedule, classes: [0, 3, 7], guidance: 5, rng: new Rng(9), workers: 0 });
      const b = ddpmSample({ model: time, schedule, count: 2, rng: new Rng(5), workers: 0 });
      const now = [...a.images, ...b.images];
      assert.equal(now.length, before.length);
      let max = 0;
      for (let i = 0; i < now.length; i++) max = Math.max(max, Math.abs(now[i] - before[i]));
      // Measured 7.3e-4 on values in [-5.5, 5.6] (an untrained model, whose eps amplifies differences).
      assert.ok(max < 1e-3, `largest difference ${max}`);
      cls.dispose();
      time.dispose();
    });
  });
});
