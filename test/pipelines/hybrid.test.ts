import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { gaussianBlur } from '../../src/lib/pipelines/blur';
import { cfgPredictor, sampleCfg } from '../../src/lib/pipelines/cfg';
import { hybridBlurSettings, hybridImage, hybridPredictor } from '../../src/lib/pipelines/hybrid';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';
import { assertClose, refCfg } from './reference';

describe('hybrid images (SPEC 1.9)', () => {
  before(useDefaultBackend);
  const dict = fakePrompts();

  it('eps = lowpass(CFG(x, far)) + highpass(CFG(x, near)), one call of 4B', () => {
    const m = new FakeModel({ size: 8, a: 0.5, rowWeight: 1, learnedVariance: true, varRow: 0.4 });
    const far = dict.embed('a handwritten 2');
    const near = dict.embed('a handwritten 5');
    const uncond = dict.embed('');
    const x = Array.from(new Rng(4).normalArray(64));
    const xt = tf.tensor4d(x, [1, 8, 8, 1]);
    const blur = hybridBlurSettings(8);
    assert.deepEqual(blur, { kernelSize: 5, sigma: 0.25, padding: 'reflect' });
    const out = hybridPredictor(m, far, near, { unconditional: uncond })(xt, 200);
    const e1 = tf.tensor4d(refCfg(m, x, 1, 200, [0.3], 0, 7).eps, [1, 8, 8, 1]);
    const c2 = refCfg(m, x, 1, 200, [-0.2], 0, 7);
    const e2 = tf.tensor4d(c2.eps, [1, 8, 8, 1]);
    const expected = tf.add(gaussianBlur(e1, 5, 0.25), tf.sub(e2, gaussianBlur(e2, 5, 0.25)));
    assertClose(out.eps.dataSync(), expected.dataSync(), 1e-5);
    assertClose(out.varValue!.dataSync(), c2.v, 1e-6); // both prompts give the same v here
    assert.deepEqual(m.calls, [{ batch: 4, t: 200 }]);
    tf.dispose([far, near, uncond, xt, out.eps, out.varValue!, e1, e2, expected]);
  });

  it('with one prompt for both it is plain CFG (lowpass + highpass = identity), seed for seed', () => {
    const m = new FakeModel({ size: 6, a: 0.4, rowWeight: 0.5 });
    const p = dict.embed('a handwritten 2');
    const uncond = dict.embed('');
    const xt = tf.tensor4d(new Rng(1).normalArray(72), [2, 6, 6, 1]);
    const h = hybridPredictor(m, p, p, { unconditional: uncond })(xt, 600);
    const c = cfgPredictor(m, p, { unconditional: uncond })(xt, 600);
    assertClose(h.eps.dataSync(), c.eps.dataSync(), 1e-5);
    const timesteps = [990, 510, 0];
    const a = hybridImage(m, { count: 2, far: p, near: p, unconditional: uncond, timesteps, rng: new Rng(9) });
    const b = sampleCfg(m, { count: 2, prompt: p, unconditional: uncond, timesteps, rng: new Rng(9) });
    assertClose(a.dataSync(), b.dataSync(), 1e-4);
    tf.dispose([p, uncond, xt, h.eps, c.eps, a, b]);
  });
});
