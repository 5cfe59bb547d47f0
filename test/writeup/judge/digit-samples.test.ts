import assert from 'assert/strict';
import { tf } from '../../../src/lib/backend/tf';
import { sampleCfg } from '../../../src/lib/pipelines/cfg';
import { PromptDictionary } from '../../../src/lib/pretrained/model';
import { Rng } from '../../../src/lib/random';
import { DigitClassifier, readModelDigits } from '../../../src/writeup/judge/classifier';
import { judgeDigitSamples } from '../../../src/writeup/judge/digit-samples';
import { useDefaultBackend } from '../../helpers';
import { FakeModel } from '../../pipelines/fake-model';

describe('judged samples on the digits model (A0 steps, A1.6 guidance)', () => {
  before(useDefaultBackend);
  // Digit d's embedding starts with d / 10, which the fake model adds to eps.
  const prompts = new PromptDictionary(
    new Map([
      ['', Float32Array.from([0, 1])],
      ...Array.from({ length: 10 }, (_, d) => [`a handwritten ${d}`, Float32Array.from([d / 10, 1])] as [string, Float32Array]),
    ]),
    2,
  );
  const timesteps = [990, 500, 0];
  // A judge that reads every image as the digit 3, and keeps what it was shown.
  const seen: Float32Array[] = [];
  const judge = {
    predict(images: Float32Array, count: number): Int32Array {
      seen.push(images.slice());
      return new Int32Array(count).fill(3);
    },
  } as unknown as DigitClassifier;

  it('samples one of each digit per row with every setting from the same noise, and counts the samples read as asked', () => {
    const model = new FakeModel({ size: 28 });
    const steps: string[] = [];
    const settings = [
      { guidance: 1, timesteps },
      { guidance: 7, timesteps },
      { guidance: 7, timesteps: [990, 0] },
    ];
    const runs = judgeDigitSamples({ model, prompts, judge, settings, perDigit: 2, seed: 5, onStep: (d, n) => steps.push(`${d}/${n}`) });
    assert.deepEqual(
      runs.map((r) => [r.guidance, r.timesteps.length - 1, r.count, r.right]),
      [
        [1, 2, 20, 2], // the two samples that asked for a 3
        [7, 2, 20, 2],
        [7, 1, 20, 2],
      ],
    );
    assert.deepEqual(
      Array.from(runs[0].asked),
      Array.from({ length: 20 }, (_, i) => i % 10),
    );
    assert.deepEqual(steps, ['1/5', '2/5', '3/5', '4/5', '5/5']);
    const prompt = tf.concat(
      Array.from(runs[0].asked, (d) => prompts.embed(`a handwritten ${d}`)),
      0,
    ) as tf.Tensor2D;
    for (const r of runs) {
      const expected = sampleCfg(model, { count: 20, prompt, unconditional: prompts.embed(''), guidance: r.guidance, timesteps: r.timesteps, rng: new Rng(5) });
      assert.deepEqual(Array.from(r.images.dataSync()), Array.from(expected.dataSync()));
      expected.dispose();
    }
    assert.notDeepEqual(Array.from(runs[0].images.dataSync()), Array.from(runs[1].images.dataSync()));
    tf.dispose([prompt, ...runs.map((r) => r.images)]);
  });

  it("reads a model's [-1, 1] images as the judge's [0, 1] pixels, and only 28x28 gray ones", () => {
    seen.length = 0;
    const x = tf.fill([2, 28, 28, 1], -0.5) as tf.Tensor4D;
    assert.deepEqual(Array.from(readModelDigits(judge, x)), [3, 3]);
    assert.ok(seen[0].every((v) => v === 0.25));
    const rgb = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    assert.throws(() => readModelDigits(judge, rgb), /reads 28x28 gray images, got \[1, 32, 32, 3\]/);
    tf.dispose([x, rgb]);
  });

  it('refuses bad settings with the value and what is allowed', () => {
    const model = new FakeModel({ size: 28 });
    assert.throws(
      () => judgeDigitSamples({ model, prompts, judge, settings: [{ guidance: 7, timesteps }], perDigit: 0, seed: 0 }),
      /per digit\): count must be a positive integer, got 0/,
    );
    assert.throws(() => judgeDigitSamples({ model, prompts, judge, settings: [], perDigit: 1, seed: 0 }), /at least one sampling setting/);
    assert.throws(
      () => judgeDigitSamples({ model: new FakeModel({ size: 8 }), prompts, judge, settings: [{ guidance: 7, timesteps }], perDigit: 1, seed: 0 }),
      /needs a 28x28 gray model/,
    );
  });
});
