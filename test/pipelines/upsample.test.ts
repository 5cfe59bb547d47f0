import assert from 'node:assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { enlargeImages, upsample } from '../../src/lib/pipelines/upsample';
import { denoiseStep } from '../../src/lib/scheduler';
import { SuperResolutionModel } from '../../src/lib/pretrained/model';
import { Rng } from '../../src/lib/random';
import { cosineSchedule } from '../../src/lib/noise-schedules';
import { sample } from '../../src/lib/pipelines/iterative';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';

/** A super-resolution stand-in that records its calls and predicts eps = 0.5 x_t + 0.1 lowRes. */
class FakeUpsampler implements SuperResolutionModel {
  readonly name = 'fake upsampler';
  readonly imageSize = 8;
  readonly lowResSize = 4;
  readonly channels = 3;
  readonly maxAugLevel = 300;
  readonly schedule = cosineSchedule(1000);
  readonly calls: Array<{ t: number; augLevel: number; lowRes: Float32Array }> = [];
  constructor(readonly clipSample = false) {}
  predict(xt: tf.Tensor4D, t: number, lowRes: tf.Tensor4D, augLevel: number): tf.Tensor4D {
    this.calls.push({ t, augLevel, lowRes: lowRes.dataSync() as Float32Array });
    return tf.tidy(() => tf.add(tf.mul(xt, 0.5), tf.mul(lowRes, 0.1)));
  }
}

describe('pipelines/upsample (stage II of a cascade)', () => {
  before(useDefaultBackend);

  it('enlarges bilinearly with pixel centres aligned: a constant stays constant, a ramp stays monotone', () => {
    const flat = tf.fill([1, 4, 4, 3], 0.25) as tf.Tensor4D;
    assert.ok([...enlargeImages(flat, 8).dataSync()].every((v) => Math.abs(v - 0.25) < 1e-6));
    const ramp = tf.tensor4d(
      Float32Array.from({ length: 48 }, (_, i) => Math.floor(i / 3) % 4),
      [1, 4, 4, 3],
    );
    const row = [...enlargeImages(ramp, 8).dataSync()].filter((_, i) => i % 3 === 0).slice(0, 8);
    for (let i = 1; i < 8; i++) assert.ok(row[i] >= row[i - 1]);
    assert.deepEqual([row[0], row[7]], [0, 3], 'edges clamped');
    tf.dispose([flat, ramp]);
  });

  it('conditions every step on the same enlarged, augmented low-res image and returns the high-res size', () => {
    const model = new FakeUpsampler();
    const low = tf.fill([2, 4, 4, 3], 0.5) as tf.Tensor4D;
    const x = upsample(model, { image: low, rng: new Rng(1), timesteps: [900, 500, 0], augLevel: 0 });
    assert.deepEqual(x.shape, [2, 8, 8, 3]);
    assert.deepEqual(
      model.calls.map((c) => [c.t, c.augLevel]),
      [
        [900, 0],
        [500, 0],
      ],
    );
    assert.deepEqual(model.calls[0].lowRes, model.calls[1].lowRes);
    // Level 0: abar = 0.99996, so the hint is the enlarged image up to noise of std 0.006.
    assert.ok(model.calls[0].lowRes.every((v) => Math.abs(v - 0.5) < 0.05));
    const again = upsample(new FakeUpsampler(), { image: low, rng: new Rng(1), timesteps: [900, 500, 0], augLevel: 0 });
    assert.deepEqual([...again.dataSync()], [...x.dataSync()], 'same seed, same bytes');
    tf.dispose([low, x, again]);
  });

  it('refuses a wrong input size and an augmentation level outside what the model learned', () => {
    const model = new FakeUpsampler();
    const wrong = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    assert.throws(() => upsample(model, { image: wrong, rng: new Rng(0) }), /takes \[B, 4, 4, 3\] images/);
    const low = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    assert.throws(() => upsample(model, { image: low, rng: new Rng(0), augLevel: 400 }), /augLevel must be an integer from 0 to 300/);
    tf.dispose([wrong, low]);
  });

  it('clips x0_hat to [-1, 1] when the model asks for it (clip_sample), and only then', () => {
    const s = cosineSchedule(1000);
    const xt = tf.fill([1, 1, 1, 1], 0.5) as tf.Tensor4D;
    const eps = tf.fill([1, 1, 1, 1], -1) as tf.Tensor4D;
    const z = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
    // x0_hat = (0.5 + sqrt(1 - abar)) / sqrt(abar) is about 107 at t = 990.
    const plain = denoiseStep(s, xt, 990, 960, eps, z).dataSync()[0];
    const clipped = denoiseStep(s, xt, 990, 960, eps, z, { clipX0: true }).dataSync()[0];
    const abarPrev = s.alphasCumprod[960];
    const abarT = s.alphasCumprod[990];
    const beta = 1 - abarT / abarPrev;
    const want = ((Math.sqrt(abarPrev) * beta) / (1 - abarT)) * 1 + ((Math.sqrt(abarT / abarPrev) * (1 - abarPrev)) / (1 - abarT)) * 0.5;
    assert.ok(Math.abs(clipped - want) < 1e-4, `clipped step ${clipped} vs ${want}`);
    assert.ok(plain > clipped + 1, "without clipping the huge x0_hat pulls x_t' far out");
    tf.dispose([xt, eps, z]);
  });

  it('Part A pipelines clip x0_hat exactly for models that declare clipSample', () => {
    class Clipping extends FakeModel {
      readonly clipSample = true;
    }
    const prompt = fakePrompts().embed('a high quality photo');
    const run = (m: FakeModel) => sample(m, { count: 2, prompt, rng: new Rng(5), timesteps: [990, 600, 0] });
    const a = run(new FakeModel({ a: -0.9 }));
    const b = run(new Clipping({ a: -0.9 }));
    const max = (t: tf.Tensor) => Math.max(...[...t.dataSync()].map(Math.abs));
    assert.ok(max(b) < 1.05, `with clipping, the result (the last x0_hat plus a little noise) stays near [-1, 1] (got ${max(b)})`);
    assert.ok(max(a) > 1.5, `without it the result is not (got ${max(a)})`);
    tf.dispose([prompt, a, b]);
  });
});
