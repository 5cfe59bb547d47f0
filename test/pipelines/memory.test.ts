import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { visualAnagram } from '../../src/lib/pipelines/anagram';
import { hybridImage } from '../../src/lib/pipelines/hybrid';
import { inpaint } from '../../src/lib/pipelines/inpaint';
import { oneStepDenoise } from '../../src/lib/pipelines/one-step';
import { sdedit } from '../../src/lib/pipelines/sdedit';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';

describe('Part A pipelines and memory', () => {
  before(useDefaultBackend);

  it('leave no tensors behind but their results, also when a callback throws', () => {
    const m = new FakeModel({ size: 8, learnedVariance: true, rowWeight: 0.5 });
    const dict = fakePrompts();
    const p = dict.embed('a handwritten 2');
    const q = dict.embed('a handwritten 5');
    const u = dict.embed('');
    const image = tf.fill([2, 8, 8, 1], 0.5) as tf.Tensor4D;
    const mask = tf.ones([8, 8]);
    const timesteps = [990, 600, 300, 0];
    const g = { unconditional: u, timesteps };
    const before = tf.memory().numTensors;
    const results = [
      sdedit(m, { ...g, image, iStart: 1, prompt: p, rng: new Rng(1) }),
      inpaint(m, { ...g, image, mask, prompt: p, rng: new Rng(1) }),
      visualAnagram(m, { ...g, count: 2, prompt1: p, prompt2: q, view: 'rotate180', rng: new Rng(1) }),
      hybridImage(m, { ...g, count: 2, far: p, near: q, rng: new Rng(1) }),
    ];
    const one = oneStepDenoise(m, image, 500, p);
    assert.equal(tf.memory().numTensors, before + results.length + 2);
    tf.dispose([...results, one.x0, one.eps]);
    assert.throws(
      () =>
        sdedit(m, {
          ...g,
          image,
          iStart: 0,
          prompt: p,
          rng: new Rng(1),
          onStep: () => {
            throw new Error('stop');
          },
        }),
      /stop/,
    );
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([p, q, u, image, mask]);
  });
});
