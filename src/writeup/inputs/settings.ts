import { getProfile } from '../profiles';

/**
 * How much a Part A notebook computes. `quick` and `full` show SPEC's whole figure set; `smoke`
 * keeps every figure but with fewer samples and settings, to run in seconds (its pictures only
 * check that everything runs).
 */
export interface PartASettings {
  /** SPEC 0: num_inference_steps values. */
  inferenceSteps: number[];
  /** SPEC 0: samples per prompt. */
  samplesPerPrompt: number;
  /** SPEC 1.5 and 1.6: samples. */
  samples: number;
  /**
   * Timesteps for the pipelines that start from pure noise (1.5, 1.6, 1.7.2, 1.8, 1.9): SPEC's
   * stride 30 (990, 960, ..., 0), or a coarser stride for smoke runs.
   */
  noiseTimesteps: number[];
  /** SPEC 1.7: the start indices into the stride-30 timesteps (990, 960, ..., 0). */
  iStarts: number[];
  /** SPEC 1.7.x: which of the three images (test image + 2 own) to edit. */
  photos: number;
  /** SPEC 1.8 and 1.9: illusions made, and candidates per illusion (seeds tried in one batch). */
  illusions: number;
  candidates: number;
  /** SPEC 1.8 on the digits model: candidates of each digit anagram that Part B's digit judge reads. */
  judgedAnagrams: number;
  /** SPEC 0 and 1.6 on the digits model: samples of each digit per setting (steps, guidance scale) that Part B's digit judge reads. */
  judgedDigitSamples: number;
  /** SPEC 1.7.3 on the digits model: real digits edited towards another digit at every i_start, and read by Part B's digit judge. */
  judgedEdits: number;
}

/** The Part A settings of a profile (profiles.ts holds them, with the rest of each profile). */
export function partASettings(profile: string): PartASettings {
  return getProfile(profile).partA;
}
