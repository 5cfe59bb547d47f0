import { tf } from '../backend/tf';
import { DiffusionModel, PromptEncoder, SuperResolutionModel } from '../pretrained/model';
import { Rng } from '../random';
import { sampleCfg } from './cfg';
import { PipelineOptions } from './iterative';
import { upsample } from './upsample';

/** A text-to-image cascade: stage I draws from a prompt, an optional stage II enlarges. */
export interface TextToImageCascade {
  stage1: DiffusionModel;
  prompts: PromptEncoder;
  stage2?: SuperResolutionModel;
}

export interface TextToImageOptions extends Omit<PipelineOptions, 'rng'> {
  /** Seeds all noise of both stages (default 0); `rng` takes precedence. */
  seed?: number;
  rng?: Rng;
  /** Images to draw for the prompt (default 1). */
  count?: number;
  /** CFG scale gamma (default 7, SPEC 1.6). */
  guidance?: number;
  /** Run stage II when the cascade has one (default true). */
  upsample?: boolean;
}

/**
 * Prompt -> images: stage I samples from pure noise with classifier-free guidance (SPEC 1.6,
 * timesteps 990, 960, ..., 0 unless given), then stage II, if any, takes them to its size.
 * Returns [count, size, size, channels] in [-1, 1]; the caller owns it. An unknown word is an
 * error naming the nearest known ones.
 */
export function textToImage(cascade: TextToImageCascade, prompt: string, opts: TextToImageOptions = {}): tf.Tensor4D {
  const { stage1, prompts, stage2 } = cascade;
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const count = opts.count ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new Error(`textToImage: count must be a positive integer, got ${count}`);
  const small = tf.tidy(() =>
    sampleCfg(stage1, {
      count,
      prompt: prompts.embed(prompt),
      unconditional: prompts.embed(''),
      guidance: opts.guidance,
      rng,
      timesteps: opts.timesteps,
      onStep: opts.onStep,
      onFrame: opts.onFrame,
      frameEvery: opts.frameEvery,
    }),
  );
  if (!stage2 || opts.upsample === false) return small;
  try {
    return upsample(stage2, { image: small, rng });
  } finally {
    small.dispose();
  }
}
