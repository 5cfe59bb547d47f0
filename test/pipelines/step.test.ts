import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { oneStepDenoise } from '../../src/lib/pipelines/one-step';
import { denoiseStep, predictX0, stepCoefficients } from '../../src/lib/scheduler';
import { cosineSchedule } from '../../src/lib/noise-schedules';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';
import { assertClose, refStep } from './reference';

describe('one-step denoising (SPEC 1.3) and the strided step (SPEC 1.4)', () => {
  before(useDefaultBackend);
  const s = cosineSchedule(1000);

  it('x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t); with eps exact it recovers x0', () => {
    const xt = tf.tensor4d([0.5, -0.25], [1, 1, 2, 1]);
    const eps = tf.tensor4d([1, 0], [1, 1, 2, 1]);
    const x0 = predictX0(xt, eps, 250, s);
    // abar[250] = 0.84589
    const a = 0.84589;
    assertClose(x0.dataSync(), [(0.5 - Math.sqrt(1 - a)) / Math.sqrt(a), -0.25 / Math.sqrt(a)], 1e-4);
    tf.dispose([xt, eps, x0]);
  });

  it('oneStepDenoise calls the model once and applies the formula to its eps', () => {
    const m = new FakeModel({ a: 0.5, tWeight: 1 });
    const p = fakePrompts().embed('a handwritten 2');
    const xt = tf.tensor4d([0, 1, -1, 0.5], [1, 2, 2, 1]);
    const model = new FakeModel({ size: 2, a: 0.5, tWeight: 1 });
    const { x0, eps } = oneStepDenoise(model, xt, 500, p);
    const e = [0, 1, -1, 0.5].map((x) => 0.5 * x + 0.3 + 0.5);
    assertClose(eps.dataSync(), e, 1e-5);
    const a = s.alphasCumprod[500];
    assertClose(
      x0.dataSync(),
      [0, 1, -1, 0.5].map((x, i) => (x - Math.sqrt(1 - a) * e[i]) / Math.sqrt(a)),
      1e-4,
    );
    assert.deepEqual(model.calls, [{ batch: 1, t: 500 }]);
    assert.equal(m.calls.length, 0);
    tf.dispose([p, xt, x0, eps]);
  });

  it('step coefficients match SPEC at 690 -> 660', () => {
    const c = stepCoefficients(s, 690, 660);
    const at = s.alphasCumprod[690];
    const ap = s.alphasCumprod[660];
    assert.ok(Math.abs(at - 0.21452) < 1e-5);
    assert.ok(Math.abs(c.alpha - at / ap) < 1e-12);
    assert.ok(Math.abs(c.beta - (1 - at / ap)) < 1e-12);
    assert.ok(Math.abs(c.posteriorVariance - ((1 - ap) / (1 - at)) * c.beta) < 1e-12);
    assert.ok(c.posteriorVariance < c.beta);
    assert.throws(() => stepCoefficients(s, 660, 690), /smaller t'/);
  });

  it('the update with posterior variance and with learned range matches the hand formula', () => {
    const x = [0.3, -0.7, 1.2, 0.1];
    const eps = [0.5, 0.2, -1, 0.4];
    const z = [1, -0.5, 0.25, 2];
    const v = [-1, 1, 0, 0.5];
    const t4 = (a: number[]) => tf.tensor4d(a, [1, 2, 2, 1]);
    const [tx, te, tz, tv] = [t4(x), t4(eps), t4(z), t4(v)];
    for (const [t, tp] of [
      [990, 960],
      [690, 660],
      [30, 0],
    ]) {
      const plain = denoiseStep(s, tx, t, tp, te, tz);
      assertClose(plain.dataSync(), refStep(s, t, tp, x, eps, z), 1e-4, `posterior ${t}`);
      const learned = denoiseStep(s, tx, t, tp, te, tz, { variance: tv });
      assertClose(learned.dataSync(), refStep(s, t, tp, x, eps, z, v), 1e-4, `learned ${t}`);
      tf.dispose([plain, learned]);
    }
    // v = -1 gives the posterior variance, v = 1 gives beta: check pixel 1 (v = 1) directly.
    const c = stepCoefficients(s, 690, 660);
    const withBeta = denoiseStep(s, tx, 690, 660, te, tz, { variance: tv }).dataSync()[1];
    const mean = refStep(s, 690, 660, x, eps, [0, 0, 0, 0])[1];
    assert.ok(Math.abs(withBeta - (mean + Math.sqrt(c.beta) * -0.5)) < 1e-5);
    tf.dispose([tx, te, tz, tv]);
  });
});
