import { tf } from '../../lib/backend/tf';
import { ImageDataset } from '../../lib/data/dataset';
import { textConditionedEdit } from '../../lib/pipelines/sdedit';
import { stridedTimesteps } from '../../lib/scheduler';
import { DIGIT_PROMPTS } from '../../lib/pretrained/builtin-spec';
import { DiffusionModel, PromptEncoder } from '../../lib/pretrained/model';
import { sequentialSteps } from '../../lib/progress';
import { deriveSeed, Rng } from '../../lib/random';
import { checkDigitModel, checkSampleCount, DigitClassifier, readModelDigits } from './classifier';

export interface DigitEditRun {
  iStart: number;
  /** The edited digits, [count, 28, 28, 1] in [-1, 1]; the caller disposes them. */
  images: tf.Tensor4D;
  /** The judge's reading of each, and how many read as the digit the prompt asks for and as the one they were. */
  reads: Int32Array;
  asTarget: number;
  asSource: number;
}

export interface DigitEdit {
  from: number;
  to: number;
  /** The real digits edited, [count, 28, 28, 1] in [-1, 1]; the caller disposes them. */
  originals: tf.Tensor4D;
  runs: DigitEditRun[];
  count: number;
}

/**
 * Does the prompt pull an edit, and how far? SPEC 1.7.3's text-conditioned SDEdit on a model that
 * draws digits (Part A's built-in digits model): the first `count` real digits `from` of a data
 * set, noised to each i_start and denoised with CFG towards "a handwritten <to>", every result
 * read by Part B's digit judge.
 */
export function judgeDigitEdit(opts: {
  model: DiffusionModel;
  prompts: PromptEncoder;
  judge: DigitClassifier;
  /** Real digits in [0, 1] (e.g. MNIST's test split). */
  digits: ImageDataset;
  from: number;
  to: number;
  count: number;
  iStarts: readonly number[];
  seed: number;
  timesteps?: number[];
  onStep?: (done: number, total: number) => void;
}): DigitEdit {
  const { model, prompts, judge, digits, from, to, count, iStarts } = opts;
  checkDigitModel(model, 'judgeDigitEdit');
  checkSampleCount(count, 'judgeDigitEdit');
  for (const d of [from, to]) if (!(Number.isInteger(d) && d >= 0 && d <= 9)) throw new Error(`A digit edit takes digits 0-9, got ${d}`);
  if (iStarts.length === 0) throw new Error('judgeDigitEdit: give at least one i_start');
  const picked: number[] = [];
  for (let i = 0; i < digits.count && picked.length < count; i++) if (digits.labels[i] === from) picked.push(i);
  if (picked.length < count) throw new Error(`judgeDigitEdit: the data has ${picked.length} digits ${from}, fewer than the ${count} asked for`);
  const per = 28 * 28;
  const pixels = new Float32Array(count * per);
  picked.forEach((row, k) => pixels.set(digits.images.subarray(row * per, (row + 1) * per), k * per));
  const originals = tf.tensor4d(
    pixels.map((v) => v * 2 - 1),
    [count, 28, 28, 1],
  );
  const [prompt, unconditional] = [prompts.embed(DIGIT_PROMPTS[to]), prompts.embed('')];
  // Progress over every run: each i_start denoises from timesteps[iStart] to the end.
  const stepCallbacks = sequentialSteps(
    iStarts.map((i) => (opts.timesteps ?? stridedTimesteps()).length - 1 - i),
    opts.onStep,
  );
  try {
    const runs = iStarts.map((iStart, k) => {
      const images = textConditionedEdit(model, {
        image: originals,
        iStart,
        prompt,
        unconditional,
        timesteps: opts.timesteps,
        rng: new Rng(deriveSeed(opts.seed, 'digit-edit', iStart)),
        onStep: stepCallbacks[k],
      });
      const reads = readModelDigits(judge, images);
      const asTarget = reads.filter((d) => d === to).length;
      const asSource = reads.filter((d) => d === from).length;
      return { iStart, images, reads, asTarget, asSource };
    });
    return { from, to, originals, runs, count };
  } finally {
    tf.dispose([prompt, unconditional]);
  }
}
