import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { cfgPredictor, iterativeDenoiseCfg, sampleCfg } from '../../src/lib/pipelines/cfg';
import { sdedit } from '../../src/lib/pipelines/sdedit';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';
import { assertClose, draw, refCfg, refForward, refStep } from './reference';

describe('classifier-free guidance (SPEC 1.6) and SDEdit (SPEC 1.7)', () => {
  before(useDefaultBackend);
  const timesteps = [990, 690, 300, 0];
  const dict = fakePrompts();

  it('eps = eps_u + 7 (eps_c - eps_u) with the conditional variance, in one model call of 2B', () => {
    const m = new FakeModel({ size: 2, a: 0.5, rowWeight: 1, learnedVariance: true, varRow: 0.8 });
    const prompt = dict.embedMany(['a handwritten 2', 'a handwritten 5']);
    const uncond = dict.embed('');
    const x = [0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4];
    const xt = tf.tensor4d(x, [2, 2, 2, 1]);
    const out = cfgPredictor(m, prompt, { unconditional: uncond })(xt, 500);
    // Hand check of one pixel: x = 0.1, row 0, prompt 0.3: eps_c = 0.35, eps_u = 0.05 -> 0.05 + 7 * 0.3 = 2.15.
    assert.ok(Math.abs(out.eps.dataSync()[0] - 2.15) < 1e-5);
    const ref = refCfg(m, x, 2, 500, [0.3, -0.2], 0, 7);
    assertClose(out.eps.dataSync(), ref.eps, 1e-5);
    assertClose(out.varValue!.dataSync(), ref.v, 1e-6);
    assert.deepEqual(m.calls, [{ batch: 4, t: 500 }]);
    tf.dispose([prompt, uncond, xt, out.eps, out.varValue!]);
  });

  it('iterativeDenoiseCfg and sampleCfg follow the hand-computed guided loop', () => {
    const m = new FakeModel({ size: 2, a: 0.3, tWeight: 0.2, learnedVariance: true });
    const prompt = dict.embed('a handwritten 2');
    const uncond = dict.embed('');
    const out = sampleCfg(m, { count: 2, prompt, unconditional: uncond, guidance: 3, timesteps, rng: new Rng(11) });
    const rng = new Rng(11);
    let x = draw(rng, 8);
    for (let i = 0; i < 3; i++) {
      const { eps, v } = refCfg(m, x, 2, timesteps[i], [0.3, 0.3], 0, 3);
      x = refStep(m.schedule, timesteps[i], timesteps[i + 1], x, eps, draw(rng, 8), v);
    }
    assertClose(out.dataSync(), x, 1e-4);

    const image = tf.tensor4d([0.5, -0.5, 0.25, 0], [1, 2, 2, 1]);
    const a = iterativeDenoiseCfg(m, { image, iStart: 2, prompt, unconditional: uncond, timesteps, rng: new Rng(3) });
    const r = new Rng(3);
    const { eps, v } = refCfg(m, [0.5, -0.5, 0.25, 0], 1, 300, [0.3], 0, 7);
    assertClose(a.dataSync(), refStep(m.schedule, 300, 0, [0.5, -0.5, 0.25, 0], eps, draw(r, 4), v), 1e-4);
    tf.dispose([prompt, uncond, out, image, a]);
  });

  it('SDEdit noises the image to timesteps[i_start] with forward(), then denoises with CFG', () => {
    const m = new FakeModel({ size: 2, a: 0.2 });
    const prompt = dict.embed('a high quality photo');
    const uncond = dict.embed('');
    const clean = [0.9, -0.9, 0.1, 0.4];
    const image = tf.tensor4d(clean, [1, 2, 2, 1]);
    const frames: number[][] = [];
    const out = sdedit(m, {
      image,
      iStart: 1,
      prompt,
      unconditional: uncond,
      timesteps,
      rng: new Rng(21),
      onFrame: (f) => frames.push(Array.from(f.image)),
    });
    const rng = new Rng(21);
    let x = refForward(clean, draw(rng, 4), m.schedule.alphasCumprod[690]);
    assertClose(frames[0], x, 1e-5, 'noisy start');
    for (let i = 1; i < 3; i++) {
      const { eps } = refCfg(m, x, 1, timesteps[i], [0.1], 0, 7);
      x = refStep(m.schedule, timesteps[i], timesteps[i + 1], x, eps, draw(rng, 4));
    }
    assertClose(out.dataSync(), x, 1e-4);
    assert.equal(frames.length, 3);
    assert.throws(() => sdedit(m, { image, iStart: 3, prompt, unconditional: uncond, timesteps, rng: new Rng(1) }), /i_start 3 is out of range/);
    tf.dispose([prompt, uncond, image, out]);
  });

  it('is deterministic per seed on the default 34 timesteps', () => {
    const m = new FakeModel({ size: 3, learnedVariance: true });
    const prompt = dict.embed('a handwritten 5');
    const uncond = dict.embed('');
    const image = tf.fill([2, 3, 3, 1], 0.2) as tf.Tensor4D;
    const run = (seed: number) => {
      const o = sdedit(m, { image, iStart: 20, prompt, unconditional: uncond, rng: new Rng(seed) });
      const d = Array.from(o.dataSync());
      o.dispose();
      return d;
    };
    assert.deepEqual(run(4), run(4));
    assert.notDeepEqual(run(4), run(5));
    tf.dispose([prompt, uncond, image]);
  });
});
