import { stridedTimesteps } from '../scheduler';

/**
 * How much each Part A notebook computes under each run profile. `quick` and `full` show SPEC's
 * whole figure set; `smoke` keeps every figure but with fewer samples and settings, to run in
 * seconds (its pictures only check that everything runs).
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
}

const SETTINGS: Record<string, PartASettings> = {
  full: {
    noiseTimesteps: stridedTimesteps(),
    inferenceSteps: [5, 10, 20, 40],
    samplesPerPrompt: 3,
    samples: 5,
    iStarts: [1, 3, 5, 7, 10, 20],
    photos: 3,
    illusions: 3,
    candidates: 4,
  },
  quick: {
    noiseTimesteps: stridedTimesteps(),
    inferenceSteps: [5, 10, 20, 40],
    samplesPerPrompt: 3,
    samples: 5,
    iStarts: [1, 3, 5, 7, 10, 20],
    photos: 3,
    illusions: 3,
    candidates: 4,
  },
  smoke: {
    noiseTimesteps: stridedTimesteps(990, 90),
    inferenceSteps: [5, 10],
    samplesPerPrompt: 1,
    samples: 2,
    iStarts: [20],
    photos: 3,
    illusions: 3,
    candidates: 1,
  },
};

export function partASettings(profile: string): PartASettings {
  const s = SETTINGS[profile];
  if (!s) throw new Error(`Unknown profile "${profile}". Choose one of: ${Object.keys(SETTINGS).join(', ')}.`);
  return s;
}
