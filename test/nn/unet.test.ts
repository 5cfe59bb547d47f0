import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { concat, ConvBlock, DownBlock, FCBlock, flatten, Unflatten, UpBlock } from '../../src/lib/nn/blocks';
import { UNet } from '../../src/lib/nn/unet';
import { Rng } from '../../src/lib/random';
import { oneHot } from '../../src/lib/nn/one-hot';
import { useDefaultBackend } from '../helpers';

describe('UNet (SPEC Part B)', () => {
  before(useDefaultBackend);
  const ctx = { training: false };

  it('each operation gives the shape SPEC lists', () => {
    const rng = new Rng(0);
    const D = 4;
    tf.tidy(() => {
      const x = tf.randomNormal([2, 28, 28, 1]) as tf.Tensor4D;
      const e1 = new ConvBlock(rng, 1, D).forward(x, ctx);
      assert.deepEqual(e1.shape, [2, 28, 28, D]);
      const e2 = new DownBlock(rng, D, D).forward(e1, ctx);
      assert.deepEqual(e2.shape, [2, 14, 14, D]);
      const e3 = new DownBlock(rng, D, 2 * D).forward(e2, ctx);
      assert.deepEqual(e3.shape, [2, 7, 7, 2 * D]);
      const f = flatten(e3);
      assert.deepEqual(f.shape, [2, 1, 1, 2 * D]);
      const u = new Unflatten(rng, 2 * D).forward(f, ctx);
      assert.deepEqual(u.shape, [2, 7, 7, 2 * D]);
      assert.deepEqual(concat(u, e3).shape, [2, 7, 7, 4 * D]);
      const d1 = new UpBlock(rng, 4 * D, D).forward(concat(u, e3), ctx);
      assert.deepEqual(d1.shape, [2, 14, 14, D]);
      const d2 = new UpBlock(rng, 2 * D, D).forward(concat(d1, e2), ctx);
      assert.deepEqual(d2.shape, [2, 28, 28, D]);
      assert.deepEqual(new FCBlock(rng, 10, 2 * D).forward(tf.zeros([2, 10])).shape, [2, 2 * D]);
    });
  });

  it('parameter counts match SPEC (BatchNorm affine included)', () => {
    const count = (hidden: number, conditioning: 'none' | 'time' | 'class') => {
      const m = new UNet({ hidden, conditioning }, new Rng(0));
      const n = m.parameterCount();
      m.dispose();
      return n;
    };
    assert.equal(Math.round(count(128, 'none') / 1e4) / 100, 7.89);
    assert.equal(Math.round(count(64, 'time') / 1e4) / 100, 2.0);
    assert.equal(Math.round(count(64, 'class') / 1e4) / 100, 2.02);
  });

  it('maps [N, 28, 28, 1] to [N, 28, 28, 1] for every conditioning', () => {
    for (const conditioning of ['none', 'time', 'class'] as const) {
      const m = new UNet({ hidden: 4, conditioning }, new Rng(1));
      tf.tidy(() => {
        const y = m.forward({ x: tf.zeros([3, 28, 28, 1]), t: tf.zeros([3, 1]), c: tf.zeros([3, 10]) });
        assert.deepEqual(y.shape, [3, 28, 28, 1]);
      });
      m.dispose();
    }
  });

  it('class conditioning changes the output, and the zero vector is a valid input', () => {
    const m = new UNet({ hidden: 8, conditioning: 'class' }, new Rng(2));
    tf.tidy(() => {
      // One image three times, asked as a 3, a 7 and unconditionally, in one training-mode batch.
      const one = tf.randomNormal([1, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
      const x = tf.concat([one, one, one], 0) as tf.Tensor4D;
      const t = tf.fill([3, 1], 0.5) as tf.Tensor2D;
      const c = tf.concat([oneHot([3], 10), oneHot([7], 10), tf.zeros([1, 10])], 0) as tf.Tensor2D;
      const y = m.forward({ x, t, c }, { training: true }).dataSync();
      const row = (i: number) => y.subarray(i * 784, (i + 1) * 784);
      const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
      assert.ok(maxDiff(row(0) as Float32Array, row(1) as Float32Array) > 1e-3);
      assert.ok(row(2).every(Number.isFinite));
    });
    m.dispose();
  });

  it('rejects wrong image sizes and missing conditioning with a clear message', () => {
    const m = new UNet({ hidden: 4, conditioning: 'class' }, new Rng(0));
    tf.tidy(() => {
      assert.throws(() => m.forward({ x: tf.zeros([1, 32, 32, 1]), t: tf.zeros([1, 1]), c: tf.zeros([1, 10]) }), /\[N, 28, 28, 1\]/);
      assert.throws(() => m.forward({ x: tf.zeros([1, 28, 28, 1]), t: tf.zeros([1, 1]) }), /one-hot c of shape \[1, 10\]/);
      assert.throws(() => m.forward({ x: tf.zeros([1, 28, 28, 1]) }), /needs t of shape/);
    });
    assert.throws(() => new UNet({ hidden: 0, conditioning: 'none' }, new Rng(0)), /positive integer/);
    m.dispose();
  });
});
