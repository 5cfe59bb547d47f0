import { tf } from '../backend/tf';
import { DiffusionModel } from '../pretrained/model';
import { Rng } from '../random';
import { gaussianNoise } from './forward-process';
import { DenoiseCallbacks, denoiseLoop } from './loop';
import { NoisePredictor, promptPredictor } from './predictor';
import { checkTimesteps, stridedTimesteps } from '../scheduler';
import { DEFAULT_I_START, checkIStart } from './timesteps';
import { checkImage, checkPrompt } from './validate';

/** Options every Part A pipeline shares. */
export interface PipelineOptions extends DenoiseCallbacks {
  /** All noise (start and every step) comes from here: the same seed gives the same images. */
  rng: Rng;
  /** Default stridedTimesteps() = 990, 960, ..., 0. */
  timesteps?: readonly number[];
}

export interface IterativeDenoiseOptions extends PipelineOptions {
  /** Noisy images x_t at t = timesteps[iStart], [B, size, size, channels]. */
  image: tf.Tensor4D;
  /** Index into timesteps of the image's noise level (SPEC 1.4: 10, t = 690). */
  iStart?: number;
  /** Prompt embedding [1, E] or [B, E]. */
  prompt: tf.Tensor2D;
}

/** Validates a noisy start image and runs the loop with a predictor (shared by every pipeline). */
export function runFrom(
  model: DiffusionModel,
  image: tf.Tensor4D,
  iStart: number,
  predictor: NoisePredictor,
  opts: PipelineOptions,
  afterStep?: (x: tf.Tensor4D, tPrev: number) => tf.Tensor4D,
): tf.Tensor4D {
  checkImage(image, model);
  const timesteps = opts.timesteps ?? stridedTimesteps();
  checkTimesteps(timesteps, model.schedule);
  checkIStart(iStart, timesteps);
  return denoiseLoop({ ...opts, schedule: model.schedule, predictor, start: image, iStart, timesteps, afterStep, clipX0: model.clipSample });
}

/**
 * SPEC 1.4, iterative denoising: from noisy images at timesteps[iStart] down to t = 0 with one
 * prompt. The caller owns the result.
 */
export function iterativeDenoise(model: DiffusionModel, opts: IterativeDenoiseOptions): tf.Tensor4D {
  checkImage(opts.image, model, 'noisy image');
  checkPrompt(opts.prompt, opts.image.shape[0]);
  return runFrom(model, opts.image, opts.iStart ?? DEFAULT_I_START, promptPredictor(model, opts.prompt), opts);
}

/** Pure noise x_T for `count` images of the model's size, from rng. */
export function pureNoise(model: DiffusionModel, count: number, rng: Rng): tf.Tensor4D {
  if (!Number.isInteger(count) || count < 1) throw new Error(`Number of samples must be a positive integer, got ${count}`);
  return gaussianNoise([count, model.imageSize, model.imageSize, model.channels], rng) as tf.Tensor4D;
}

/** Runs the loop from pure noise (i_start = 0) for `count` images: every "sample" pipeline. */
export function runFromNoise(model: DiffusionModel, count: number, predictor: NoisePredictor, opts: PipelineOptions): tf.Tensor4D {
  const start = pureNoise(model, count, opts.rng);
  try {
    return runFrom(model, start, 0, predictor, opts);
  } finally {
    start.dispose();
  }
}

export interface SampleOptions extends PipelineOptions {
  /** Number of images, generated together in one batch. */
  count: number;
  /** Prompt embedding [1, E] or [count, E] (SPEC 1.5: "a high quality photo"). */
  prompt: tf.Tensor2D;
}

/** SPEC 1.5, sampling: iterative denoising from pure noise (i_start = 0), no guidance. */
export function sample(model: DiffusionModel, opts: SampleOptions): tf.Tensor4D {
  checkPrompt(opts.prompt, opts.count);
  return runFromNoise(model, opts.count, promptPredictor(model, opts.prompt), opts);
}
