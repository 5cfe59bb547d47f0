import { tf } from '../../lib/backend/tf';
import { sampleCfg } from '../../lib/pipelines/cfg';
import { DIGIT_PROMPTS } from '../../lib/pretrained/builtin-spec';
import { DiffusionModel, PromptEncoder } from '../../lib/pretrained/model';
import { Rng } from '../../lib/random';
import { checkDigitModel, checkSampleCount, DigitClassifier, readModelDigits } from './classifier';

export interface DigitGuidanceRun {
  guidance: number;
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
 * Does guidance make a prompt count? SPEC 1.6's `sampleCfg` on a model that draws digits (Part A's
 * built-in digits model), "a handwritten 0" ... "a handwritten 9" at each guidance scale from the
 * same starting noise (one seed), every sample read by Part B's digit judge.
 */
export function judgeDigitGuidance(opts: {
  model: DiffusionModel;
  prompts: PromptEncoder;
  judge: DigitClassifier;
  scales: readonly number[];
  perDigit: number;
  seed: number;
  timesteps?: number[];
  onStep?: (done: number, total: number) => void;
}): DigitGuidanceRun[] {
  const { model, prompts, judge, scales, perDigit } = opts;
  checkDigitModel(model, 'judgeDigitGuidance');
  checkSampleCount(perDigit, 'judgeDigitGuidance (per digit)');
  if (scales.length === 0) throw new Error('judgeDigitGuidance: give at least one guidance scale');
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
  try {
    return scales.map((guidance, k) => {
      const images = sampleCfg(model, {
        count,
        prompt,
        unconditional,
        guidance,
        timesteps: opts.timesteps,
        rng: new Rng(opts.seed),
        onStep: (done, total) => opts.onStep?.(k * total + done, scales.length * total),
      });
      const reads = readModelDigits(judge, images);
      const right = reads.reduce((n, d, i) => n + (d === asked[i] ? 1 : 0), 0);
      return { guidance, images, asked, reads, right, count };
    });
  } finally {
    tf.dispose([prompt, unconditional]);
  }
}
