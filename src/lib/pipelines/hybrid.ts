import { tf } from '../backend/tf';
import { DiffusionModel, ModelOutput } from '../pretrained/model';
import { gaussianBlur } from './blur';
import { BlurSettings } from './classical';
import { DEFAULT_GUIDANCE, GuidanceOptions, checkGuidance, guidedPredictions } from './cfg';
import { PipelineOptions, runFromNoise } from './iterative';
import { NoisePredictor } from './predictor';
import { checkPrompt } from './validate';

/**
 * SPEC 1.9's low-pass blur scaled to an image size: kernel 33 and sigma 2 at 64 px, both
 * proportional to the size, the kernel rounded to the nearest odd integer (28 px: 15, 0.875).
 */
export function hybridBlurSettings(imageSize: number): BlurSettings {
  if (!Number.isInteger(imageSize) || imageSize < 1) throw new Error(`Image size must be a positive integer, got ${imageSize}`);
  const scale = imageSize / 64;
  const kernelSize = Math.max(1, 2 * Math.round((33 * scale - 1) / 2) + 1);
  return { kernelSize, sigma: 2 * scale, padding: 'reflect' };
}

export function lowpass(eps: tf.Tensor4D, blur: BlurSettings): tf.Tensor4D {
  return gaussianBlur(eps, blur.kernelSize, blur.sigma, blur.padding);
}

/** eps - lowpass(eps), so lowpass + highpass is the identity. */
export function highpass(eps: tf.Tensor4D, blur: BlurSettings): tf.Tensor4D {
  return tf.tidy(() => tf.sub(eps, lowpass(eps, blur)));
}

/**
 * SPEC 1.9 as a predictor: eps = lowpass(CFG(x_t, far)) + highpass(CFG(x_t, near)). The
 * conditional variance values are averaged (SPEC does not say; this is the anagram's rule).
 */
export function hybridPredictor(
  model: DiffusionModel,
  far: tf.Tensor2D,
  near: tf.Tensor2D,
  g: GuidanceOptions,
  blur: BlurSettings = hybridBlurSettings(model.imageSize),
): NoisePredictor {
  const gamma = g.guidance ?? DEFAULT_GUIDANCE;
  checkGuidance(gamma);
  checkPrompt(g.unconditional, 1, 'unconditional');
  return (xt, t) => {
    const [a, b] = guidedPredictions(
      model,
      t,
      [
        { x: xt, prompt: far },
        { x: xt, prompt: near },
      ],
      g.unconditional,
      gamma,
    );
    const [eps, varValue] = tf.tidy(() => {
      const e = tf.add(lowpass(a.eps, blur), highpass(b.eps, blur)) as tf.Tensor4D;
      if (!a.varValue || !b.varValue) return [e];
      return [e, tf.div(tf.add(a.varValue, b.varValue), 2) as tf.Tensor4D];
    });
    const result: ModelOutput = varValue ? { eps, varValue } : { eps };
    tf.dispose([a.eps, a.varValue, b.eps, b.varValue].filter((x): x is tf.Tensor4D => x !== undefined));
    return result;
  };
}

export interface HybridOptions extends PipelineOptions, GuidanceOptions {
  count: number;
  /** Seen from far (low frequencies), [1, E] or [count, E]. */
  far: tf.Tensor2D;
  /** Seen up close (high frequencies), [1, E] or [count, E]. */
  near: tf.Tensor2D;
  /** Default hybridBlurSettings(model.imageSize). */
  blur?: BlurSettings;
}

/** SPEC 1.9, hybrid images sampled from pure noise with CFG. The caller owns the result. */
export function hybridImage(model: DiffusionModel, opts: HybridOptions): tf.Tensor4D {
  checkPrompt(opts.far, opts.count, 'far prompt');
  checkPrompt(opts.near, opts.count, 'near prompt');
  const predictor = hybridPredictor(model, opts.far, opts.near, opts, opts.blur);
  return runFromNoise(model, opts.count, predictor, opts);
}
