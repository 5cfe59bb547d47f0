import { tf } from '../backend/tf';
import { DiffusionModel } from '../pretrained/model';
import { checkTimestep, predictX0 } from '../scheduler';
import { checkImage, checkPrompt } from './validate';
import { callModel } from './predictor';

/**
 * SPEC 1.3, one-step denoising: one model call at timestep t and the clean estimate x0_hat.
 * The caller owns both returned tensors.
 */
export function oneStepDenoise(model: DiffusionModel, xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D): { x0: tf.Tensor4D; eps: tf.Tensor4D } {
  checkImage(xt, model, 'noisy image');
  checkPrompt(prompt, xt.shape[0]);
  checkTimestep(t, model.schedule);
  const out = callModel(model, xt, t, prompt);
  out.varValue?.dispose();
  return { x0: predictX0(xt, out.eps, t, model.schedule), eps: out.eps };
}
