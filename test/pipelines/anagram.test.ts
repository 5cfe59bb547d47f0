import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { anagramPredictor, applyView, visualAnagram } from '../../src/lib/pipelines/anagram';
import { sampleCfg } from '../../src/lib/pipelines/cfg';
import { Rng } from '../../src/lib/random';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';
import { assertClose, refCfg } from './reference';

describe('visual anagrams (SPEC 1.8)', () => {
  before(useDefaultBackend);
  const dict = fakePrompts();

  it('flip reverses rows (upside down); rotate180 reverses rows and columns', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const f = applyView(x, 'flip');
    const r = applyView(x, 'rotate180');
    assert.deepEqual(Array.from(f.dataSync()), [4, 5, 6, 1, 2, 3]);
    assert.deepEqual(Array.from(r.dataSync()), [6, 5, 4, 3, 2, 1]);
    tf.dispose([x, f, r]);
  });

  it('eps = (CFG(x, p1) + flip(CFG(flip(x), p2))) / 2, variance averaged likewise, in one call of 4B', () => {
    const m = new FakeModel({ size: 2, a: 0.5, rowWeight: 1, learnedVariance: true, varRow: 0.6 });
    const p1 = dict.embed('a handwritten 2');
    const p2 = dict.embed('a handwritten 5');
    const uncond = dict.embed('');
    const x = [0.1, 0.2, 0.3, 0.4]; // rows [0.1, 0.2] and [0.3, 0.4]
    const xt = tf.tensor4d(x, [1, 2, 2, 1]);
    const out = anagramPredictor(m, p1, p2, 'flip', { unconditional: uncond })(xt, 400);
    const flip = (a: number[]) => [a[2], a[3], a[0], a[1]];
    const c1 = refCfg(m, x, 1, 400, [0.3], 0, 7);
    const c2 = refCfg(m, flip(x), 1, 400, [-0.2], 0, 7);
    const f2 = flip(c2.eps);
    const fv = flip(c2.v);
    assertClose(
      out.eps.dataSync(),
      c1.eps.map((e, i) => (e + f2[i]) / 2),
      1e-5,
    );
    assertClose(
      out.varValue!.dataSync(),
      c1.v.map((v, i) => (v + fv[i]) / 2),
      1e-6,
    );
    // By hand at pixel 0 (row 0, x = 0.1): eps1 = 0.05 + 7 * 0.3 = 2.15; the flipped image has
    // 0.3 at row 0 and 0.1 at row 1, so eps2 = flip -> row 1 of CFG(flip x): 0.05 + 1 + 7 * (-0.2) = -0.35.
    assert.ok(Math.abs(out.eps.dataSync()[0] - (2.15 - 0.35) / 2) < 1e-5);
    // v: row 0 -> 0.2, row 1 -> 0.8; averaged with its flip: 0.5 everywhere.
    assertClose(out.varValue!.dataSync(), [0.5, 0.5, 0.5, 0.5], 1e-6);
    assert.deepEqual(m.calls, [{ batch: 4, t: 400 }]);
    tf.dispose([p1, p2, uncond, xt, out.eps, out.varValue!]);
  });

  for (const view of ['flip', 'rotate180'] as const) {
    it(`with one prompt for both, the estimate is symmetric under the view (${view})`, () => {
      const m = new FakeModel({ size: 4, a: 0.5, rowWeight: 2, learnedVariance: true, varRow: 0.5 });
      const p = dict.embed('a handwritten 2');
      const uncond = dict.embed('');
      const predict = anagramPredictor(m, p, p, view, { unconditional: uncond });
      const x = tf.tensor4d(new Rng(2).normalArray(2 * 16), [2, 4, 4, 1]);
      const seen = applyView(x, view);
      const a = predict(x, 300);
      const b = predict(seen, 300);
      const aSeen = applyView(a.eps, view);
      assertClose(b.eps.dataSync(), aSeen.dataSync(), 1e-5);
      // Symmetric input -> symmetric output.
      const sym = tf.div(tf.add(x, seen), 2) as tf.Tensor4D;
      const s = predict(sym, 300);
      const sSeen = applyView(s.eps, view);
      assertClose(s.eps.dataSync(), sSeen.dataSync(), 1e-5);
      tf.dispose([p, uncond, x, seen, a.eps, a.varValue!, b.eps, b.varValue!, aSeen, sym, s.eps, s.varValue!, sSeen]);
    });
  }

  it('with the same prompt and a position-independent model it equals plain CFG sampling, seed for seed', () => {
    const m = new FakeModel({ size: 3, a: 0.4, learnedVariance: true });
    const p = dict.embed('a handwritten 5');
    const uncond = dict.embed('');
    const timesteps = [990, 500, 0];
    const a = visualAnagram(m, { count: 2, prompt1: p, prompt2: p, unconditional: uncond, timesteps, rng: new Rng(3) });
    const b = sampleCfg(m, { count: 2, prompt: p, unconditional: uncond, timesteps, rng: new Rng(3) });
    assertClose(a.dataSync(), b.dataSync(), 1e-5);
    assert.throws(
      () => visualAnagram(m, { count: 1, prompt1: p, prompt2: p, unconditional: uncond, view: 'mirror' as 'flip', rng: new Rng(1) }),
      /Unknown anagram view "mirror": use one of flip, rotate180/,
    );
    tf.dispose([p, uncond, a, b]);
  });
});
