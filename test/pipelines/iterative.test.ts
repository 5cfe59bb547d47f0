import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { DenoiseFrame } from '../../src/lib/pipelines/loop';
import { iterativeDenoise, sample } from '../../src/lib/pipelines/iterative';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';
import { assertClose, draw, refModel, refStep } from './reference';

describe('iterative denoising (SPEC 1.4) and sampling (SPEC 1.5)', () => {
  before(useDefaultBackend);
  const timesteps = [990, 690, 300, 0];

  function reference(m: FakeModel, start: number[], batch: number, iStart: number, prompt: number[], rng: Rng): number[] {
    let x = start;
    for (let i = iStart; i < timesteps.length - 1; i++) {
      const { eps, v } = refModel(m, x, batch, timesteps[i], prompt);
      const z = draw(rng, x.length);
      x = refStep(m.schedule, timesteps[i], timesteps[i + 1], x, eps, z, m.learnedVariance ? v : undefined);
    }
    return x;
  }

  for (const learnedVariance of [false, true]) {
    it(`follows the hand-computed loop (${learnedVariance ? 'learned range' : 'posterior'} variance), with progress and frames`, () => {
      const m = new FakeModel({ size: 3, a: 0.4, rowWeight: 0.3, tWeight: 0.5, learnedVariance, varRow: 0.6 });
      const start = Array.from(new Rng(1).normalArray(2 * 9));
      const image = tf.tensor4d(start, [2, 3, 3, 1]);
      const prompt = fakePrompts().embedMany(['a handwritten 2', 'a handwritten 5']);
      const steps: number[][] = [];
      const frames: DenoiseFrame[] = [];
      const out = iterativeDenoise(m, {
        image,
        iStart: 1,
        prompt,
        timesteps,
        rng: new Rng(42),
        onStep: (done, total, t) => steps.push([done, total, t]),
        onFrame: (f) => frames.push(f),
      });
      const expected = reference(m, start, 2, 1, [0.3, -0.2], new Rng(42));
      assertClose(out.dataSync(), expected, 1e-4);
      assert.deepEqual(steps, [
        [1, 2, 300],
        [2, 2, 0],
      ]);
      assert.deepEqual(
        frames.map((f) => [f.index, f.t]),
        [
          [1, 690],
          [2, 300],
          [3, 0],
        ],
      );
      assert.deepEqual(Array.from(frames[0].image), Array.from(Float32Array.from(start)));
      assert.deepEqual(frames[2].shape, [2, 3, 3, 1]);
      assert.deepEqual(
        m.calls.map((c) => c.t),
        [690, 300],
      );
      tf.dispose([image, prompt, out]);
    });
  }

  it('samples from pure noise drawn from the same rng (i_start 0), reproducibly per seed', () => {
    const m = new FakeModel({ size: 2, learnedVariance: true });
    const prompt = fakePrompts().embed('a high quality photo');
    const a = sample(m, { count: 3, prompt, timesteps, rng: new Rng(5) });
    const b = sample(m, { count: 3, prompt, timesteps, rng: new Rng(5) });
    const c = sample(m, { count: 3, prompt, timesteps, rng: new Rng(6) });
    assert.deepEqual(a.shape, [3, 2, 2, 1]);
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.notDeepEqual(a.dataSync(), c.dataSync());
    const rng = new Rng(5);
    const start = draw(rng, 12);
    assertClose(a.dataSync(), reference(m, start, 3, 0, [0.1, 0.1, 0.1], rng), 1e-4);
    tf.dispose([prompt, a, b, c]);
  });

  it('reports every 5th frame on the default timesteps as SPEC 1.4 shows them', () => {
    const m = new FakeModel({ size: 2 });
    const prompt = fakePrompts().embed('');
    const image = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    const ts: number[] = [];
    const out = iterativeDenoise(m, { image, prompt, rng: new Rng(1), frameEvery: 5, onFrame: (f) => ts.push(f.t) });
    assert.deepEqual(ts, [690, 540, 390, 240, 90, 0]);
    tf.dispose([prompt, image, out]);
  });

  it('rejects images of the wrong size, bad prompts and i_start out of range, naming the fix', () => {
    const m = new FakeModel({ size: 4 });
    const prompt = fakePrompts().embed('');
    const wrong = tf.zeros([1, 5, 5, 1]) as tf.Tensor4D;
    assert.throws(() => iterativeDenoise(m, { image: wrong, prompt, rng: new Rng(1) }), /shape \[1, 5, 5, 1\].*\[B, 4, 4, 1\]: resize/);
    const ok = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
    assert.throws(() => iterativeDenoise(m, { image: ok, prompt, rng: new Rng(1), iStart: 34 }), /i_start 34 is out of range/);
    const three = fakePrompts().embedMany(['', '', '']);
    assert.throws(() => iterativeDenoise(m, { image: ok, prompt: three, rng: new Rng(1) }), /\[1, E\].*\[2, E\]/);
    assert.throws(() => sample(m, { count: 0, prompt, rng: new Rng(1) }), /positive integer/);
    tf.dispose([prompt, wrong, ok, three]);
  });

  it('does not leak tensors', () => {
    const m = new FakeModel({ size: 2, learnedVariance: true });
    const prompt = fakePrompts().embed('');
    const before = tf.memory().numTensors;
    const out = sample(m, { count: 2, prompt, timesteps, rng: new Rng(1) });
    out.dispose();
    assert.equal(tf.memory().numTensors, before);
    prompt.dispose();
  });
});
