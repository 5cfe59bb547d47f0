import { tf } from '../backend/tf';
import { resize } from '../images/pixels';
import { SuperResolutionModel } from '../pretrained/model';
import { Rng } from '../random';
import { DenoiseCallbacks, denoiseLoop } from './loop';
import { addNoise, inferenceTimesteps } from '../scheduler';

/**
 * A cascade's second stage (DeepFloyd IF stage II): sample a high-resolution image conditioned on
 * a low-resolution one. The low-res image is enlarged bilinearly and noised to `augLevel`
 * (noise augmentation: the model was trained to treat the low-res image as a noisy hint, so
 * stage I's small errors are not copied up), then the usual denoising loop runs from pure noise.
 */
export interface UpsampleOptions extends DenoiseCallbacks {
  /** Low-resolution images [B, lowResSize, lowResSize, channels], values about [-1, 1]. */
  image: tf.Tensor4D;
  rng: Rng;
  /** Default DEFAULT_UPSAMPLE_STEPS evenly spaced timesteps. */
  timesteps?: number[];
  /** Augmentation timestep of the low-res image; default DEFAULT_AUG_LEVEL. */
  augLevel?: number;
}

export const DEFAULT_UPSAMPLE_STEPS = 25;
/** IF stage II's pipeline uses noise_level 250 of 1000; this small model reads its hint best with less. */
export const DEFAULT_AUG_LEVEL = 100;

/** Bilinear enlargement of a batch (pixel centres aligned, edges clamped), on the CPU like training. */
export function enlargeImages(images: tf.Tensor4D, size: number): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  const data = images.dataSync() as Float32Array;
  const out = new Float32Array(n * size * size * c);
  for (let i = 0; i < n; i++) {
    const im = { height: h, width: w, channels: c, data: data.subarray(i * h * w * c, (i + 1) * h * w * c) };
    out.set(resize(im, size, size).data, i * size * size * c);
  }
  return tf.tensor4d(out, [n, size, size, c]);
}

/** Stage II on a batch of stage I images. The caller owns the result [B, imageSize, imageSize, channels]. */
export function upsample(model: SuperResolutionModel, opts: UpsampleOptions): tf.Tensor4D {
  const [n, h, w, c] = opts.image.shape;
  if (h !== model.lowResSize || w !== model.lowResSize || c !== model.channels) {
    throw new Error(
      `upsample: ${model.name} takes [B, ${model.lowResSize}, ${model.lowResSize}, ${model.channels}] images, got [${opts.image.shape.join(', ')}]`,
    );
  }
  const augLevel = opts.augLevel ?? DEFAULT_AUG_LEVEL;
  if (!Number.isInteger(augLevel) || augLevel < 0 || augLevel > model.maxAugLevel) {
    throw new Error(`upsample: augLevel must be an integer from 0 to ${model.maxAugLevel} (what the model was trained with), got ${augLevel}`);
  }
  const timesteps = opts.timesteps ?? inferenceTimesteps(DEFAULT_UPSAMPLE_STEPS, model.schedule.T);
  const size = model.imageSize;
  // IF's noise augmentation: the enlarged image taken to noise level augLevel (SPEC 1.1's forward process).
  const lowRes = tf.tidy(() => {
    const up = enlargeImages(opts.image, size);
    const z = tf.tensor4d(opts.rng.normalArray(n * size * size * c), [n, size, size, c]);
    return addNoise(up, z, augLevel, model.schedule);
  });
  const start = tf.tensor4d(opts.rng.normalArray(n * size * size * c), [n, size, size, c]);
  try {
    return denoiseLoop({
      schedule: model.schedule,
      clipX0: model.clipSample,
      predictor: (xt, t) => ({ eps: model.predict(xt, t, lowRes, augLevel) }),
      start,
      iStart: 0,
      timesteps,
      rng: opts.rng,
      onStep: opts.onStep,
      onFrame: opts.onFrame,
      frameEvery: opts.frameEvery,
    });
  } finally {
    tf.dispose([lowRes, start]);
  }
}
