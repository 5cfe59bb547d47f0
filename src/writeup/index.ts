/**
 * The writeup's own parts, for its notebooks: Part A's inputs (images, masks, prompts, settings,
 * the model a notebook's parameters choose), the figures of both parts, the digit judge and the
 * profiles. Built on the library (src/lib), which never imports anything from here:
 *   import * as dl from './src/lib/index';        (the diffusion library)
 *   import * as wu from './src/writeup/index';    (this writeup)
 * The notebook helpers that show figures and talk to the report builder are in notebook/display.ts.
 */
export * from './inputs/photos';
export * from './inputs/sketches';
export * from './inputs/web-image';
export * from './inputs/images';
export * from './inputs/prompts';
export * from './inputs/settings';
export * from './inputs/setup';
export * from './figures/parta';
export * from './figures/partb';
export { loadOrTrainJudge, readModelDigits, DigitClassifier, type Judge } from './judge/classifier';
export {
  evaluateDdpm,
  describeEvaluation,
  measureSampleQuality,
  realDigitBaseline,
  CONFIDENT,
  type ClassAccuracy,
  type SampleQuality,
  type DdpmEvaluation,
} from './judge/evaluate';
export { judgeDigitAnagram, type DigitAnagram, type DigitAnagramTrial } from './judge/digit-anagrams';
export { judgeDigitSamples, type DigitSampling, type DigitSamplesRun } from './judge/digit-samples';
export { judgeDigitEdit, type DigitEdit, type DigitEditRun } from './judge/digit-edit';
export { featureStats, frechetDistance, type FeatureStats } from './judge/frechet';
export { PROFILES, PROFILE_NAMES, getProfile, trainConfigFor, samplingFor, type Profile, type ProfileName } from './profiles';
export { PART_A_MODELS, PART_A_MODEL_KINDS, type PartAModelKind, type PartAModelEntry } from './part-a-models';
