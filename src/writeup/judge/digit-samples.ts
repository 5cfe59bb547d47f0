import { tf } from '../../lib/backend/tf';
import { sampleCfg } from '../../lib/pipelines/cfg';
import { DIGIT_PROMPTS } from '../../lib/pretrained/builtin-spec';
import { DiffusionModel, PromptEncoder } from '../../lib/pretrained/model';
import { sequentialSteps } from '../../lib/progress';
import { Rng } from '../../lib/random';
import { checkDigitModel, checkSampleCount, DigitClassifier, readModelDigits } from './classifier';

/** One way of sampling: a CFG scale and the timesteps walked, from the first down to the last. */
export interface DigitSampling {
  guidance: number;
  timesteps: number[];
}

export interface DigitSamplesRun extends DigitSampling {
  /** Samples in rows of one of each digit (sample i asks for digit i % 10), [10 * perDigit, 28, 28, 1] in [-1, 1]; the caller disposes them. */
  images: tf.Tensor4D;
  /** The digit each sample asked for, and the judge's reading. */
  asked: Int32Array;
  reads: Int32Array;
  /** Samples read as the digit asked for. */
  right: number;
  count: number;
}

/**
 * Does a sampling setting make the prompt count? SPEC 1.6's `sampleCfg` on a model that draws
 * digits (Part A's built-in digits model): "a handwritten 0" ... "a handwritten 9" with each
 * setting (guidance scale, timesteps: A.1.6 varies the first, A.0 the number of steps), every
 * setting from the same starting noise (one seed), every sample read by Part B's digit judge.
 */
export function judgeDigitSamples(opts: {
  model: DiffusionModel;
  prompts: PromptEncoder;
  judge: DigitClassifier;
  settings: readonly DigitSampling[];
  perDigit: number;
  seed: number;
  onStep?: (done: number, total: number) => void;
}): DigitSamplesRun[] {
  const { model, prompts, judge, settings, perDigit } = opts;
  checkDigitModel(model, 'judgeDigitSamples');
  checkSampleCount(perDigit, 'judgeDigitSamples (per digit)');
  if (settings.length === 0) throw new Error('judgeDigitSamples: give at least one sampling setting');
  const count = 10 * perDigit;
  const asked = Int32Array.from({ length: count }, (_, i) => i % 10);
  const prompt = tf.tidy(
    () =>
      tf.concat(
        Array.from(asked, (d) => prompts.embed(DIGIT_PROMPTS[d])),
        0,
      ) as tf.Tensor2D,
  );
  const unconditional = prompts.embed('');
  // Progress over every setting: each walks its own timesteps.
  const stepCallbacks = sequentialSteps(
    settings.map((s) => s.timesteps.length - 1),
    opts.onStep,
  );
  try {
    return settings.map((setting, k) => {
      const images = sampleCfg(model, {
        count,
        prompt,
        unconditional,
        guidance: setting.guidance,
        timesteps: setting.timesteps,
        rng: new Rng(opts.seed),
        onStep: stepCallbacks[k],
      });
      const reads = readModelDigits(judge, images);
      const right = reads.reduce((n, d, i) => n + (d === asked[i] ? 1 : 0), 0);
      return { ...setting, images, asked, reads, right, count };
    });
  } finally {
    tf.dispose([prompt, unconditional]);
  }
}
