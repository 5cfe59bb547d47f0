import assert from 'assert/strict';
import { tf } from '../../../src/lib/backend/tf';
import { ImageDataset } from '../../../src/lib/data/dataset';
import { textConditionedEdit } from '../../../src/lib/pipelines/sdedit';
import { PromptDictionary } from '../../../src/lib/pretrained/model';
import { deriveSeed, Rng } from '../../../src/lib/random';
import { DigitClassifier } from '../../../src/writeup/judge/classifier';
import { judgeDigitEdit } from '../../../src/writeup/judge/digit-edit';
import { uniformValues, useDefaultBackend } from '../../helpers';
import { FakeModel } from '../../pipelines/fake-model';

describe('judged text-conditioned edits on the digits model (A1.7.3)', () => {
  before(useDefaultBackend);
  const prompts = new PromptDictionary(
    new Map([
      ['', Float32Array.from([0, 1])],
      ['a handwritten 8', Float32Array.from([0.3, 1])],
    ]),
    2,
  );
  // Six 28x28 "digits" labelled 1, 3, 3, 5, 3, 3, pixels in [0, 1].
  const digits: ImageDataset = {
    images: uniformValues(6 * 784, 2, 0, 1),
    labels: Uint8Array.from([1, 3, 3, 5, 3, 3]),
    count: 6,
    height: 28,
    width: 28,
    classes: Array.from({ length: 10 }, (_, d) => String(d)),
  };
  const timesteps = [990, 500, 0];
  // Reads the first image of every batch as an 8, the second as a 3, the third as a 5.
  const judge = { predict: (_: Float32Array, count: number) => Int32Array.from([8, 3, 5].slice(0, count)) } as unknown as DigitClassifier;

  it('edits the first digits of the source class at every i_start and counts what the judge reads', () => {
    const model = new FakeModel({ size: 28, rowWeight: 0.3 });
    const steps: string[] = [];
    const edit = judgeDigitEdit({
      model,
      prompts,
      judge,
      digits,
      from: 3,
      to: 8,
      count: 3,
      iStarts: [0, 1],
      seed: 7,
      timesteps,
      onStep: (d, n) => steps.push(`${d}/${n}`),
    });
    // Rows 1, 2 and 4 are the first three 3s, mapped to [-1, 1].
    const expected = Float32Array.from([1, 2, 4].flatMap((row) => Array.from(digits.images.subarray(row * 784, (row + 1) * 784), (v) => v * 2 - 1)));
    assert.deepEqual(Array.from(edit.originals.dataSync()), Array.from(expected));
    assert.deepEqual(
      edit.runs.map((r) => [r.iStart, r.asTarget, r.asSource]),
      [
        [0, 1, 1],
        [1, 1, 1],
      ],
    );
    assert.deepEqual(steps, ['1/3', '2/3', '3/3']); // 2 steps from i_start 0, 1 from i_start 1
    for (const r of edit.runs) {
      const same = textConditionedEdit(model, {
        image: edit.originals,
        iStart: r.iStart,
        prompt: prompts.embed('a handwritten 8'),
        unconditional: prompts.embed(''),
        timesteps,
        rng: new Rng(deriveSeed(7, 'digit-edit', r.iStart)),
      });
      assert.deepEqual(Array.from(r.images.dataSync()), Array.from(same.dataSync()));
      same.dispose();
    }
    tf.dispose([edit.originals, ...edit.runs.map((r) => r.images)]);
  });

  it('says when the data has too few digits of the class, and refuses other digits and no i_start', () => {
    const model = new FakeModel({ size: 28 });
    const base = { model, prompts, judge, digits, to: 8, seed: 0, timesteps };
    assert.throws(() => judgeDigitEdit({ ...base, from: 5, count: 2, iStarts: [1] }), /has 1 digits 5, fewer than the 2 asked for/);
    assert.throws(() => judgeDigitEdit({ ...base, from: 10, count: 1, iStarts: [1] }), /digits 0-9, got 10/);
    assert.throws(() => judgeDigitEdit({ ...base, from: 3, count: 1, iStarts: [] }), /at least one i_start/);
    assert.throws(() => judgeDigitEdit({ ...base, from: 3, count: 0, iStarts: [1] }), /count must be a positive integer, got 0/);
    assert.throws(() => judgeDigitEdit({ ...base, model: new FakeModel({ size: 8 }), from: 3, count: 1, iStarts: [1] }), /needs a 28x28 gray model/);
  });
});
