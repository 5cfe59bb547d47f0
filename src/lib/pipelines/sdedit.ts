import { tf } from '../backend/tf';
import { DiffusionModel } from '../pretrained/model';
import { GuidanceOptions, cfgPredictor } from './cfg';
import { forward } from './forward-process';
import { PipelineOptions, runFrom } from './iterative';
import { checkTimesteps, stridedTimesteps } from '../scheduler';
import { checkIStart } from './timesteps';
import { checkImage, checkPrompt } from './validate';

export interface SdeditOptions extends PipelineOptions, GuidanceOptions {
  /** Clean images [B, size, size, channels] in [-1, 1]. */
  image: tf.Tensor4D;
  /** How far to noise: index into the timesteps (SPEC 1.7: one of 1, 3, 5, 7, 10, 20; less = more editing). */
  iStart: number;
  /**
   * Prompt embedding [1, E] or [B, E]: "a high quality photo" for SPEC 1.7 and 1.7.1, a real
   * prompt for text-conditioned image-to-image (SPEC 1.7.3).
   */
  prompt: tf.Tensor2D;
}

/**
 * SPEC 1.7 (SDEdit) and 1.7.3 (text-conditioned image-to-image): noise the images to
 * t = timesteps[iStart] with forward(), then denoise with CFG. The caller owns the result.
 */
export function sdedit(model: DiffusionModel, opts: SdeditOptions): tf.Tensor4D {
  checkImage(opts.image, model);
  checkPrompt(opts.prompt, opts.image.shape[0]);
  const timesteps = opts.timesteps ?? stridedTimesteps();
  checkTimesteps(timesteps, model.schedule);
  checkIStart(opts.iStart, timesteps);
  const predictor = cfgPredictor(model, opts.prompt, opts);
  const noisy = forward(opts.image, timesteps[opts.iStart], opts.rng, model.schedule);
  try {
    return runFrom(model, noisy, opts.iStart, predictor, { ...opts, timesteps });
  } finally {
    noisy.dispose();
  }
}

/** SPEC 1.7.3 under its own name: SDEdit guided by a real prompt. */
export const textConditionedEdit = sdedit;
