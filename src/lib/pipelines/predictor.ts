import { tf } from '../backend/tf';
import { DiffusionModel, ModelOutput } from '../pretrained/model';

/**
 * Anything that estimates the noise in x_t at timestep t: a model with a prompt, CFG, an anagram
 * or a hybrid combination. The returned tensors belong to the caller.
 */
export type NoisePredictor = (xt: tf.Tensor4D, t: number) => ModelOutput;

/** model.predict with its output checked against the model's declared shape and variance. */
export function callModel(model: DiffusionModel, xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D): ModelOutput {
  const out = model.predict(xt, t, prompt);
  const want = xt.shape.join(', ');
  if (out.eps.shape.join(', ') !== want) {
    throw new Error(
      `Model "${model.name}" returned eps of shape [${out.eps.shape.join(', ')}] for x_t of shape [${want}]; its predict() must return the input's shape`,
    );
  }
  if (model.learnedVariance) {
    if (out.varValue === undefined) {
      throw new Error(`Model "${model.name}" declares learnedVariance but predict() returned no varValue; return it or set learnedVariance to false`);
    }
    if (out.varValue.shape.join(', ') !== want) {
      throw new Error(`Model "${model.name}" returned varValue of shape [${out.varValue.shape.join(', ')}] for x_t of shape [${want}]`);
    }
  } else if (out.varValue !== undefined) {
    // A model that does not declare the variance has it ignored (posterior variance is used).
    out.varValue.dispose();
    return { eps: out.eps };
  }
  return out;
}

/** The plain predictor: the model with one prompt embedding ([1, E] or [B, E]). */
export function promptPredictor(model: DiffusionModel, prompt: tf.Tensor2D): NoisePredictor {
  return (xt, t) => callModel(model, xt, t, prompt);
}
