import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { gaussianBlur, gaussianKernel1d } from '../../src/lib/pipelines/blur';
import { bestClassicalDenoise, classicalDenoise } from '../../src/lib/pipelines/classical';
import { highpass, hybridBlurSettings, lowpass } from '../../src/lib/pipelines/hybrid';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { assertClose } from './reference';

/** A direct 2D convolution with the outer-product kernel and reflect padding (no separability). */
function naiveBlur(x: Float32Array, [n, h, w, c]: number[], k: number, sigma: number): number[] {
  const g = gaussianKernel1d(k, sigma);
  const r = (k - 1) / 2;
  const refl = (i: number, len: number) => (i < 0 ? -i : i >= len ? 2 * (len - 1) - i : i);
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              s += g[i] * g[j] * x[((b * h + refl(y + i - r, h)) * w + refl(xx + j - r, w)) * c + ch];
            }
          out.push(s);
        }
  return out;
}

describe('Gaussian blur (SPEC 1.2, 1.9)', () => {
  before(useDefaultBackend);

  it('kernel 3, sigma 1 is [0.27407, 0.45186, 0.27407], with reflect or zero padding at the border', () => {
    assertClose(gaussianKernel1d(3, 1), [0.27407, 0.45186, 0.27407], 1e-4);
    const x = tf.tensor4d([0, 0, 1, 0], [1, 1, 4, 1]);
    const reflect = gaussianBlur(x, 3, 1);
    assertClose(reflect.dataSync(), [0, 0.27407, 0.45186, 2 * 0.27407], 1e-4);
    const zero = gaussianBlur(x, 3, 1, 'zero');
    // Zero padding also loses the vertical taps of this one-row image: everything times 0.45186.
    assertClose(
      zero.dataSync(),
      [0, 0.27407, 0.45186, 0.27407].map((v) => v * 0.45186),
      1e-4,
    );
    tf.dispose([x, reflect, zero]);
  });

  it('matches a direct 2D convolution, per channel, on a random batch', () => {
    const shape = [2, 6, 7, 2];
    const data = new Rng(3).normalArray(2 * 6 * 7 * 2);
    const x = tf.tensor4d(data, shape as [number, number, number, number]);
    const y = gaussianBlur(x, 5, 1.3);
    assertClose(y.dataSync(), naiveBlur(data, shape, 5, 1.3), 1e-4);
    tf.dispose([x, y]);
  });

  it('keeps a constant image constant (reflect) and defaults to kernel 5, sigma 2 for classical denoising', () => {
    const x = tf.fill([1, 5, 5, 1], 0.7) as tf.Tensor4D;
    const y = gaussianBlur(x, 33, 2);
    assertClose(y.dataSync(), new Array(25).fill(0.7), 1e-5);
    const a = classicalDenoise(x);
    const b = gaussianBlur(x, 5, 2);
    assert.deepEqual(a.dataSync(), b.dataSync());
    tf.dispose([x, y, a, b]);
  });

  it('picks the blur with the lowest error for "show the best"', () => {
    const clean = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    const noisy = tf.tensor4d(new Rng(5).normalArray(64), [1, 8, 8, 1]);
    const best = bestClassicalDenoise(noisy, clean, [
      { kernelSize: 3, sigma: 0.3 },
      { kernelSize: 7, sigma: 3 },
    ]);
    assert.deepEqual(best.settings, { kernelSize: 7, sigma: 3 });
    assert.ok(best.mse < 0.5);
    tf.dispose([clean, noisy, best.image]);
  });

  it('rejects even kernel sizes and non-positive sigma', () => {
    assert.throws(() => gaussianKernel1d(4, 1), /positive odd integer/);
    assert.throws(() => gaussianKernel1d(5, 0), /sigma must be positive/);
  });
});

describe('hybrid low-pass / high-pass (SPEC 1.9)', () => {
  before(useDefaultBackend);

  it('scales kernel 33, sigma 2 at 64 px with the image size, kernel odd', () => {
    assert.deepEqual(hybridBlurSettings(64), { kernelSize: 33, sigma: 2, padding: 'reflect' });
    assert.deepEqual(hybridBlurSettings(28), { kernelSize: 15, sigma: 0.875, padding: 'reflect' });
    assert.equal(hybridBlurSettings(32).kernelSize % 2, 1);
  });

  it('lowpass + highpass = identity', () => {
    const eps = tf.tensor4d(new Rng(9).normalArray(2 * 28 * 28), [2, 28, 28, 1]);
    const blur = hybridBlurSettings(28);
    const sum = tf.add(lowpass(eps, blur), highpass(eps, blur));
    assertClose(sum.dataSync(), eps.dataSync(), 1e-5);
    const low = lowpass(eps, blur);
    // The low-pass really removes detail (variance of white noise drops a lot).
    assert.ok(tf.moments(low).variance.dataSync()[0] < 0.2);
    tf.dispose([eps, sum, low]);
  });
});
