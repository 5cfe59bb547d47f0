import { tf } from '../backend/tf';
import { DiffusionModel } from '../pretrained/model';
import { GuidanceOptions, cfgPredictor } from './cfg';
import { forward } from './forward-process';
import { PipelineOptions, pureNoise, runFrom } from './iterative';
import { checkTimesteps, stridedTimesteps } from '../scheduler';
import { checkIStart } from './timesteps';
import { checkImage, checkPrompt } from './validate';

export interface InpaintOptions extends PipelineOptions, GuidanceOptions {
  /** Clean images [B, size, size, channels] in [-1, 1]. */
  image: tf.Tensor4D;
  /**
   * 1 = fill with NEW content, 0 = keep the original (SPEC 1.7.2; the opposite of RePaint-style
   * masks). Shape [H, W], [H, W, 1], or [1 or B, H, W, 1 or C]; values exactly 0 or 1.
   */
  mask: tf.Tensor;
  /** Prompt embedding [1, E] or [B, E] (SPEC: "a high quality photo"). */
  prompt: tf.Tensor2D;
  /** Start index; default 0 = start from pure noise as SPEC. Above 0 starts from forward(image, t). */
  iStart?: number;
}

/** The mask as a [1 or B, H, W, 1 or C] float tensor, checked against the images. */
export function prepareMask(mask: tf.Tensor, image: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = image.shape;
  let m4: number[];
  if (mask.rank === 2) m4 = [1, ...mask.shape, 1];
  else if (mask.rank === 3) m4 = [1, ...mask.shape];
  else if (mask.rank === 4) m4 = [...mask.shape];
  else m4 = [];
  const fits = m4.length === 4 && (m4[0] === 1 || m4[0] === b) && m4[1] === h && m4[2] === w && (m4[3] === 1 || m4[3] === c);
  if (!fits) {
    throw new Error(
      `The inpainting mask has shape [${mask.shape.join(', ')}] but the image is ${h}x${w} (shape [${image.shape.join(', ')}]): ` +
        `give a ${h}x${w} mask, as [${h}, ${w}], [${h}, ${w}, 1] or [1 or ${b}, ${h}, ${w}, 1 or ${c}] (resize it to the image size)`,
    );
  }
  const values = mask.dataSync();
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== 0 && values[i] !== 1) {
      throw new Error(
        `Inpainting mask values must be exactly 0 (keep) or 1 (fill with new content); found ${values[i]} at index ${i}. ` +
          'Threshold it first, e.g. tf.cast(tf.greater(mask, 0.5), "float32").',
      );
    }
  }
  return tf.tidy(() => tf.reshape(tf.cast(mask, 'float32'), m4 as [number, number, number, number]));
}

/**
 * SPEC 1.7.2, inpainting: CFG denoising in which, after every step t -> t',
 * x_t' <- m x_t' + (1 - m) forward(x_orig, t'), so only the region m = 1 gets new content.
 * Random draws per step: the step's z, then the forward noise (both one normal per value).
 * The caller owns the result.
 */
export function inpaint(model: DiffusionModel, opts: InpaintOptions): tf.Tensor4D {
  const { image, rng } = opts;
  checkImage(image, model);
  checkPrompt(opts.prompt, image.shape[0]);
  const timesteps = opts.timesteps ?? stridedTimesteps();
  checkTimesteps(timesteps, model.schedule);
  const iStart = opts.iStart ?? 0;
  checkIStart(iStart, timesteps);
  const mask = prepareMask(opts.mask, image);
  const predictor = cfgPredictor(model, opts.prompt, opts);
  const keep = (x: tf.Tensor4D, t: number) =>
    tf.tidy(() => {
      const known = forward(image, t, rng, model.schedule);
      return tf.add(tf.mul(mask, x), tf.mul(tf.sub(1, mask), known)) as tf.Tensor4D;
    });
  const start = iStart === 0 ? pureNoise(model, image.shape[0], rng) : forward(image, timesteps[iStart], rng, model.schedule);
  try {
    return runFrom(model, start, iStart, predictor, { ...opts, timesteps }, keep);
  } finally {
    start.dispose();
    mask.dispose();
  }
}
