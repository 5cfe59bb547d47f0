import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { forward, forwardWithNoise, partASchedule } from '../../src/lib/pipelines/forward-process';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { assertClose, refForward } from './reference';

describe('forward process (SPEC 1.1)', () => {
  before(useDefaultBackend);

  it('x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps', () => {
    const x0 = tf.tensor4d([1, -1, 0.5, 0], [1, 2, 2, 1]);
    const eps = tf.tensor4d([0, 0, 1, -2], [1, 2, 2, 1]);
    const xt = forwardWithNoise(x0, 500, eps);
    // abar[500] = 0.49228: sqrt = 0.70163, sqrt(1 - abar) = 0.71254
    assertClose(xt.dataSync(), [0.70163, -0.70163, 0.5 * 0.70163 + 0.71254, -2 * 0.71254], 2e-4);
    tf.dispose([x0, eps, xt]);
  });

  it('draws its noise from the seeded rng: same seed, same image', () => {
    const x0 = tf.fill([2, 3, 3, 1], 0.3) as tf.Tensor4D;
    const a = forward(x0, 750, new Rng(7));
    const b = forward(x0, 750, new Rng(7));
    const c = forward(x0, 750, new Rng(8));
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.notDeepEqual(a.dataSync(), c.dataSync());
    const noise = new Rng(7).normalArray(18);
    assertClose(a.dataSync(), refForward(new Array(18).fill(0.3), noise, partASchedule().alphasCumprod[750]), 1e-5);
    tf.dispose([x0, a, b, c]);
  });

  it('rejects timesteps outside the schedule', () => {
    const x0 = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    assert.throws(() => forward(x0, 1000, new Rng(1)), /from 0 to 999/);
    x0.dispose();
  });
});
