import assert from 'assert/strict';
import { tf } from '../../../src/lib/backend/tf';
import { applyView, visualAnagram } from '../../../src/lib/pipelines/anagram';
import { sampleCfg } from '../../../src/lib/pipelines/cfg';
import { PromptDictionary } from '../../../src/lib/pretrained/model';
import { deriveSeed, Rng } from '../../../src/lib/random';
import { DigitClassifier } from '../../../src/writeup/judge/classifier';
import { judgeDigitAnagram } from '../../../src/writeup/judge/digit-anagrams';
import { useDefaultBackend } from '../../helpers';
import { FakeModel } from '../../pipelines/fake-model';

/** A judge that answers from a script, one array per call, and keeps what it was shown. */
function scriptedJudge(answers: number[][]): { judge: DigitClassifier; seen: Float32Array[] } {
  const seen: Float32Array[] = [];
  const judge = {
    predict(images: Float32Array, count: number): Int32Array {
      assert.equal(images.length, count * 784);
      seen.push(images.slice());
      return Int32Array.from(answers[seen.length - 1]);
    },
  } as unknown as DigitClassifier;
  return { judge, seen };
}

describe('judged digit anagrams (A1.8 on the digits model)', () => {
  before(useDefaultBackend);
  const prompts = new PromptDictionary(
    new Map([
      ['', Float32Array.from([0, 1])],
      ['a handwritten 8', Float32Array.from([0.3, 1])],
      ['a handwritten 3', Float32Array.from([-0.2, 1])],
    ]),
    2,
  );
  const timesteps = [990, 500, 0];
  const anagram = { upright: 8, viewed: 3, view: 'rotate180' as const };

  it('reads the anagrams upright and turned, and plain samples of the first digit turned, and counts the readings', () => {
    const model = new FakeModel({ size: 28, rowWeight: 0.5 });
    const { judge, seen } = scriptedJudge([
      [8, 8, 3],
      [3, 1, 3],
      [3, 8, 8],
    ]);
    const trial = judgeDigitAnagram({ model, prompts, judge, anagram, count: 3, seed: 4, timesteps });
    assert.equal(trial.both, 1); // only candidate 0 reads as an 8 upright and a 3 turned
    assert.equal(trial.plainAsViewed, 1);
    assert.deepEqual(Array.from(trial.uprightReads), [8, 8, 3]);
    assert.deepEqual(Array.from(trial.turnedReads), [3, 1, 3]);

    // The images are SPEC 1.8's anagrams and plain CFG samples, each from its own seeded noise.
    const embed = (p: string) => prompts.embed(p);
    const expected = visualAnagram(model, {
      count: 3,
      prompt1: embed('a handwritten 8'),
      prompt2: embed('a handwritten 3'),
      view: 'rotate180',
      unconditional: embed(''),
      timesteps,
      rng: new Rng(deriveSeed(4, 'digit-anagram', '83-rotate180')),
    });
    const plain = sampleCfg(model, {
      count: 3,
      prompt: embed('a handwritten 8'),
      unconditional: embed(''),
      timesteps,
      rng: new Rng(deriveSeed(4, 'digit-anagram-baseline', '83-rotate180')),
    });
    const plainTurned = applyView(plain, 'rotate180');
    assert.deepEqual(Array.from(trial.images.dataSync()), Array.from(expected.dataSync()));
    assert.deepEqual(Array.from(trial.turned.dataSync()), Array.from(applyView(expected, 'rotate180').dataSync()));
    assert.deepEqual(Array.from(trial.plainTurned.dataSync()), Array.from(plainTurned.dataSync()));
    // The judge reads [0, 1] pixels: the model's [-1, 1] mapped, in the order upright, turned, plain turned.
    const unit = (x: tf.Tensor) => Array.from(Float32Array.from(x.dataSync(), (v) => (v + 1) / 2));
    assert.deepEqual(Array.from(seen[0]), unit(expected));
    assert.deepEqual(Array.from(seen[2]), unit(plainTurned));
    tf.dispose([trial.images, trial.turned, trial.plainTurned, expected, plain, plainTurned]);
  });

  it('reports progress over both runs, and the same seed gives the same candidates', () => {
    const model = new FakeModel({ size: 28 });
    const steps: string[] = [];
    const run = (seed: number) =>
      judgeDigitAnagram({
        model,
        prompts,
        judge: scriptedJudge([[0], [0], [0]]).judge,
        anagram,
        count: 1,
        seed,
        timesteps,
        onStep: (d, n) => steps.push(`${d}/${n}`),
      });
    const [a, b, c] = [run(1), run(1), run(2)];
    assert.deepEqual(steps.slice(0, 4), ['1/4', '2/4', '3/4', '4/4']);
    assert.deepEqual(Array.from(a.images.dataSync()), Array.from(b.images.dataSync()));
    assert.notDeepEqual(Array.from(a.images.dataSync()), Array.from(c.images.dataSync()));
    tf.dispose([a, b, c].flatMap((t) => [t.images, t.turned, t.plainTurned]));
  });

  it('refuses a model the judge cannot read and digits outside 0-9', () => {
    const judge = scriptedJudge([]).judge;
    assert.throws(
      () => judgeDigitAnagram({ model: new FakeModel({ size: 32, channels: 3 }), prompts, judge, anagram, count: 1, seed: 0 }),
      /needs a 28x28 gray model .* makes 32x32x3/,
    );
    assert.throws(
      () => judgeDigitAnagram({ model: new FakeModel({ size: 28 }), prompts, judge, anagram: { ...anagram, viewed: 12 }, count: 1, seed: 0 }),
      /digits 0-9, got 12/,
    );
  });
});
