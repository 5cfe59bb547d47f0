import { tf } from '../backend/tf';
import { DiffusionModel } from '../pretrained/model';

/** Checks that `image` is a batch [B, size, size, channels] the model can work on. */
export function checkImage(image: tf.Tensor, model: DiffusionModel, what = 'image'): asserts image is tf.Tensor4D {
  const s = model.imageSize;
  const c = model.channels;
  const ok = image.rank === 4 && image.shape[0] >= 1 && image.shape[1] === s && image.shape[2] === s && image.shape[3] === c;
  if (!ok) {
    throw new Error(
      `The ${what} has shape [${image.shape.join(', ')}] but model "${model.name}" works on NHWC batches [B, ${s}, ${s}, ${c}]: ` +
        `resize and centre-crop it to ${s}x${s} with ${c} channel${c === 1 ? '' : 's'} (add a batch axis with tf.expandDims for one image).`,
    );
  }
}

/** Checks that prompt embeddings [1 or B, E] fit a batch of B images. */
export function checkPrompt(prompt: tf.Tensor, batch: number, what = 'prompt'): asserts prompt is tf.Tensor2D {
  if (prompt.rank !== 2 || (prompt.shape[0] !== 1 && prompt.shape[0] !== batch)) {
    throw new Error(
      `The ${what} embedding has shape [${prompt.shape.join(', ')}] but must be [1, E] (one prompt for all) or [${batch}, E] (one per image); ` +
        'get it from PromptDictionary.embed(prompt) or embedMany(prompts).',
    );
  }
}

/** A copy of `prompt` with exactly `batch` rows ([1, E] is repeated). */
export function tilePrompt(prompt: tf.Tensor2D, batch: number): tf.Tensor2D {
  return prompt.shape[0] === batch ? tf.clone(prompt) : tf.tile(prompt, [batch, 1]);
}
