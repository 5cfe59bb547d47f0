import { tf } from '../backend/tf';
import { DiffusionModel } from '../pretrained/model';
import { checkTimestep } from './forward';
import { checkImage, checkPrompt } from './validate';
import { NoiseSchedule } from '../schedules';
import { callModel } from './predictor';

/** SPEC 1.3: x0_hat = (x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t). */
export function estimateX0(xt: tf.Tensor4D, eps: tf.Tensor4D, t: number, schedule: NoiseSchedule): tf.Tensor4D {
  checkTimestep(t, schedule);
  const abar = schedule.alphasCumprod[t];
  return tf.tidy(() => tf.div(tf.sub(xt, tf.mul(eps, Math.sqrt(1 - abar))), Math.sqrt(abar)));
}

/**
 * SPEC 1.3, one-step denoising: one model call at timestep t and the clean estimate x0_hat.
 * The caller owns both returned tensors.
 */
export function oneStepDenoise(
  model: DiffusionModel,
  xt: tf.Tensor4D,
  t: number,
  prompt: tf.Tensor2D,
): { x0: tf.Tensor4D; eps: tf.Tensor4D } {
  checkImage(xt, model, 'noisy image');
  checkPrompt(prompt, xt.shape[0]);
  checkTimestep(t, model.schedule);
  const out = callModel(model, xt, t, prompt);
  out.varValue?.dispose();
  return { x0: estimateX0(xt, out.eps, t, model.schedule), eps: out.eps };
}
