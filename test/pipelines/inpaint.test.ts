import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { inpaint } from '../../src/lib/pipelines/inpaint';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';
import { assertClose, draw, refForward } from './reference';

describe('inpainting (SPEC 1.7.2)', () => {
  before(useDefaultBackend);
  const dict = fakePrompts();

  it('keeps every pixel outside the mask equal to the noised original after every step', () => {
    const m = new FakeModel({ size: 3, learnedVariance: true });
    const clean = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
    const image = tf.tensor4d(clean, [1, 3, 3, 1]);
    // m = 1 (new content) on the top row.
    const mask = tf.tensor2d([1, 1, 1, 0, 0, 0, 0, 0, 0], [3, 3]);
    const prompt = dict.embed('a high quality photo');
    const uncond = dict.embed('');
    const frames: Array<{ t: number; image: Float32Array }> = [];
    const out = inpaint(m, { image, mask, prompt, unconditional: uncond, rng: new Rng(8), onFrame: (f) => frames.push(f) });
    assert.equal(frames.length, 34);
    // Replay the draws: start noise, then per step z and the forward noise.
    const rng = new Rng(8);
    draw(rng, 9);
    for (const f of frames.slice(1)) {
      draw(rng, 9);
      const known = refForward(clean, draw(rng, 9), m.schedule.alphasCumprod[f.t]);
      assertClose(Array.from(f.image).slice(3), known.slice(3), 1e-5, `kept pixels at t = ${f.t}`);
      // The masked top row is new content, not the noised original.
      assert.notEqual(f.image[0], known[0]);
    }
    assertClose(Array.from(out.dataSync()).slice(3), Array.from(frames[33].image).slice(3), 0);
    assert.equal(frames[33].t, 0);
    tf.dispose([image, mask, prompt, uncond, out]);
  });

  it('rejects masks of the wrong size or with values other than 0 and 1, and wrong images', () => {
    const m = new FakeModel({ size: 3 });
    const image = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    const prompt = dict.embed('');
    const base = { image, prompt, unconditional: prompt, rng: new Rng(1) };
    const big = tf.zeros([4, 4]);
    assert.throws(() => inpaint(m, { ...base, mask: big }), /mask has shape \[4, 4\] but the image is 3x3.*give a 3x3 mask/);
    const soft = tf.fill([3, 3], 0.5);
    assert.throws(() => inpaint(m, { ...base, mask: soft }), /exactly 0 \(keep\) or 1 \(fill with new content\); found 0.5.*Threshold/);
    const good = tf.ones([1, 3, 3, 1]);
    const wrongImage = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    assert.throws(() => inpaint(m, { ...base, image: wrongImage, mask: good }), /resize and centre-crop it to 3x3/);
    assert.throws(() => inpaint(m, { ...base, mask: good, iStart: 40 }), /i_start 40 is out of range/);
    tf.dispose([image, prompt, big, soft, good, wrongImage]);
  });
});
