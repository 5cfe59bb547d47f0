import { tf } from '../../lib/backend/tf';
import { AnagramView, applyView, visualAnagram } from '../../lib/pipelines/anagram';
import { sampleCfg } from '../../lib/pipelines/cfg';
import { DIGIT_PROMPTS } from '../../lib/pretrained/builtin-spec';
import { DiffusionModel, PromptEncoder } from '../../lib/pretrained/model';
import { sequentialSteps } from '../../lib/progress';
import { deriveSeed, Rng } from '../../lib/random';
import { stridedTimesteps } from '../../lib/scheduler';
import { checkDigitModel, checkSampleCount, DigitClassifier, readModelDigits } from './classifier';

/** A visual anagram of two digits: `upright` as drawn, `viewed` under `view`. */
export interface DigitAnagram {
  upright: number;
  viewed: number;
  view: AnagramView;
}

export interface DigitAnagramTrial {
  anagram: DigitAnagram;
  /**
   * The candidates as generated and under the view, and plain samples of the upright digit under
   * the view, each [count, 28, 28, 1] in [-1, 1]; the caller disposes them.
   */
  images: tf.Tensor4D;
  turned: tf.Tensor4D;
  plainTurned: tf.Tensor4D;
  /** The judge's digit for each candidate upright, and under the view. */
  uprightReads: Int32Array;
  turnedReads: Int32Array;
  /** Candidates read as `upright` upright and as `viewed` under the view. */
  both: number;
  /** Plain CFG samples of `upright` (as many, other noise) that read as `viewed` under the view: what the view alone does. */
  plainAsViewed: number;
  count: number;
}

/**
 * Does the anagram trick work? SPEC 1.8's `visualAnagram` on a model that draws digits (Part A's
 * built-in digits model), every candidate read by Part B's digit judge upright and under the
 * view, next to plain samples of the upright digit under the same view: a 6 turned round is a 9
 * without any trick, so a pair only shows the method when the baseline stays low.
 */
export function judgeDigitAnagram(opts: {
  model: DiffusionModel;
  prompts: PromptEncoder;
  judge: DigitClassifier;
  anagram: DigitAnagram;
  count: number;
  seed: number;
  guidance?: number;
  timesteps?: number[];
  onStep?: (done: number, total: number) => void;
}): DigitAnagramTrial {
  const { model, prompts, judge, anagram, count } = opts;
  checkDigitModel(model, 'judgeDigitAnagram');
  checkSampleCount(count, 'judgeDigitAnagram');
  for (const d of [anagram.upright, anagram.viewed]) {
    if (!(Number.isInteger(d) && d >= 0 && d <= 9)) throw new Error(`A digit anagram takes digits 0-9, got ${d}`);
  }
  const embed = (d: number) => prompts.embed(DIGIT_PROMPTS[d]);
  const [first, second, unconditional] = [embed(anagram.upright), embed(anagram.viewed), prompts.embed('')];
  const key = `${anagram.upright}${anagram.viewed}-${anagram.view}`;
  const common = { count, unconditional, guidance: opts.guidance, timesteps: opts.timesteps };
  // Progress over both runs: the anagrams' steps, then the plain samples'.
  const steps = (opts.timesteps ?? stridedTimesteps()).length - 1;
  const [anagramStep, plainStep] = sequentialSteps([steps, steps], opts.onStep);
  const images = visualAnagram(model, {
    ...common,
    onStep: anagramStep,
    prompt1: first,
    prompt2: second,
    view: anagram.view,
    rng: new Rng(deriveSeed(opts.seed, 'digit-anagram', key)),
  });
  const turned = applyView(images, anagram.view);
  const plain = sampleCfg(model, { ...common, onStep: plainStep, prompt: first, rng: new Rng(deriveSeed(opts.seed, 'digit-anagram-baseline', key)) });
  const plainTurned = applyView(plain, anagram.view);
  const uprightReads = readModelDigits(judge, images);
  const turnedReads = readModelDigits(judge, turned);
  const baselineReads = readModelDigits(judge, plainTurned);
  tf.dispose([first, second, unconditional, plain]);
  let both = 0;
  let plainAsViewed = 0;
  for (let i = 0; i < count; i++) {
    if (uprightReads[i] === anagram.upright && turnedReads[i] === anagram.viewed) both++;
    if (baselineReads[i] === anagram.viewed) plainAsViewed++;
  }
  return { anagram, images, turned, plainTurned, uprightReads, turnedReads, both, plainAsViewed, count };
}
