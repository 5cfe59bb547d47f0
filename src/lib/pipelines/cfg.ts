import { tf } from '../backend/tf';
import { DiffusionModel, ModelOutput } from '../pretrained/model';
import { IterativeDenoiseOptions, PipelineOptions, runFrom, runFromNoise } from './iterative';
import { guide } from '../scheduler';
import { NoisePredictor, callModel } from './predictor';
import { DEFAULT_I_START } from './timesteps';
import { checkImage, checkPrompt, tilePrompt } from './validate';

/** SPEC 1.6's guidance scale. */
export const DEFAULT_GUIDANCE = 7;

/** Classifier-free guidance settings shared by the pipelines from SPEC 1.6 on. */
export interface GuidanceOptions {
  /** The unconditional embedding, [1, E]: the empty prompt "" (PromptDictionary.embed('')). */
  unconditional: tf.Tensor2D;
  /** gamma; default 7. */
  guidance?: number;
}

/**
 * CFG noise estimates for several (images, prompt) pairs with ONE model call: the conditional and
 * unconditional inputs of every pair are stacked into a single batch. Returns, per pair, the
 * guided eps and the conditional variance value (SPEC 1.6: "use the conditional variance").
 */
export function guidedPredictions(
  model: DiffusionModel,
  t: number,
  pairs: ReadonlyArray<{ x: tf.Tensor4D; prompt: tf.Tensor2D }>,
  unconditional: tf.Tensor2D,
  gamma: number,
): ModelOutput[] {
  const b = pairs[0].x.shape[0];
  const out = tf.tidy(() => {
    const xs: tf.Tensor4D[] = [];
    const ps: tf.Tensor2D[] = [];
    for (const { x, prompt } of pairs) {
      xs.push(x, x);
      ps.push(tilePrompt(prompt, b), tilePrompt(unconditional, b));
    }
    const res = callModel(model, tf.concat(xs, 0), t, tf.concat(ps, 0));
    const eps = tf.split(res.eps, xs.length, 0) as tf.Tensor4D[];
    const vars = res.varValue ? (tf.split(res.varValue, xs.length, 0) as tf.Tensor4D[]) : null;
    const tensors: tf.Tensor4D[] = [];
    pairs.forEach((_, k) => {
      tensors.push(guide(eps[2 * k], eps[2 * k + 1], gamma));
      if (vars) tensors.push(vars[2 * k]);
    });
    return tensors;
  });
  const per = model.learnedVariance ? 2 : 1;
  return pairs.map((_, k) => (per === 2 ? { eps: out[2 * k], varValue: out[2 * k + 1] } : { eps: out[k] }));
}

export function checkGuidance(gamma: number): void {
  if (!Number.isFinite(gamma)) throw new Error(`CFG scale gamma must be a finite number (SPEC: 7), got ${gamma}`);
}

/** SPEC 1.6 as a predictor: eps = eps_u + gamma (eps_c - eps_u), with the conditional variance. */
export function cfgPredictor(model: DiffusionModel, prompt: tf.Tensor2D, g: GuidanceOptions): NoisePredictor {
  const gamma = g.guidance ?? DEFAULT_GUIDANCE;
  checkGuidance(gamma);
  checkPrompt(g.unconditional, 1, 'unconditional');
  return (xt, t) => guidedPredictions(model, t, [{ x: xt, prompt }], g.unconditional, gamma)[0];
}

export type IterativeDenoiseCfgOptions = IterativeDenoiseOptions & GuidanceOptions;

/** SPEC 1.6: iterative denoising (SPEC 1.4) with classifier-free guidance. The caller owns the result. */
export function iterativeDenoiseCfg(model: DiffusionModel, opts: IterativeDenoiseCfgOptions): tf.Tensor4D {
  checkImage(opts.image, model, 'noisy image');
  checkPrompt(opts.prompt, opts.image.shape[0]);
  return runFrom(model, opts.image, opts.iStart ?? DEFAULT_I_START, cfgPredictor(model, opts.prompt, opts), opts);
}

export interface SampleCfgOptions extends PipelineOptions, GuidanceOptions {
  count: number;
  /** Prompt embedding [1, E] or [count, E]. */
  prompt: tf.Tensor2D;
}

/** SPEC 1.6: samples from pure noise with CFG. */
export function sampleCfg(model: DiffusionModel, opts: SampleCfgOptions): tf.Tensor4D {
  checkPrompt(opts.prompt, opts.count);
  return runFromNoise(model, opts.count, cfgPredictor(model, opts.prompt, opts), opts);
}
