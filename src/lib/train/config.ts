import * as crypto from 'crypto';
import type { CascadeUNetConfig } from '../nn/cascade-unet';
import type { TextEncoderConfig } from '../nn/text-encoder';
import type { CaptionRecipe } from '../text/captions';

/** The three Part B models: B1 single-step denoiser, B2 time-conditioned and class-conditioned DDPMs. */
export type ModelKind = 'denoiser' | 'time' | 'class';
export const MODEL_KINDS: readonly ModelKind[] = ['denoiser', 'time', 'class'];

/** The two stages of Part A's built-in text-to-image cascade: text -> 32 px, then 32 -> 64 px. */
export type CascadeKind = 'text' | 'upsample';
export const CASCADE_KINDS: readonly CascadeKind[] = ['text', 'upsample'];

/** Every network the trainer can train. */
export type NetworkKind = ModelKind | CascadeKind;

export function isCascadeKind(kind: string): kind is CascadeKind {
  return (CASCADE_KINDS as readonly string[]).includes(kind);
}

/** What a cascade stage is made of and trained on (TrainConfig.cascade; Part B runs have none). */
export interface CascadeSpec {
  unet: CascadeUNetConfig;
  /**
   * What the network outputs: 'epsilon' (the noise) or 'v' (v = sqrt(abar) eps - sqrt(1 - abar) x0,
   * Salimans & Ho 2022). Either way the model hands eps to the pipelines.
   */
  prediction: 'epsilon' | 'v';
  /** Stage I: the text encoder and its vocabulary (the words, in id order). */
  text?: TextEncoderConfig;
  vocabulary?: string[];
  /** Stage I: how captions are composed, and the probability of the generic prompt instead. */
  captions?: CaptionRecipe;
  pGeneric?: number;
  /** Stage I: the image size; stage II: the high-resolution size. */
  imageSize: number;
  /** Stage II: the low-resolution size (stage I's), the training crop and the largest augmentation timestep. */
  lowResSize?: number;
  cropSize?: number;
  maxAugLevel?: number;
}

/** Pixel range a model sees: 'unit' = [0, 1] (SPEC's Part B), 'symmetric' = [-1, 1] (Part A, DDPM's own). */
export type PixelRange = 'unit' | 'symmetric';

export interface TrainConfig {
  kind: NetworkKind;
  /** UNet hidden width D. */
  hidden: number;
  batchSize: number;
  epochs: number;
  /** Adam learning rate at the first epoch (the peak rate for 'cosine'). */
  lr: number;
  /**
   * 'exponential': lr multiplied by finalLrFactor^(1/epochs) after every epoch (SPEC B2).
   * 'cosine': per step, from lr down to lr * finalLrFactor along half a cosine over the whole run,
   * after `warmupSteps` of linear warm-up.
   */
  lrDecay: 'none' | 'exponential' | 'cosine';
  finalLrFactor: number;
  /** Steps of linear learning-rate warm-up from 0 ('cosine' only; absent = 0). */
  warmupSteps?: number;
  /**
   * Decay of an exponential moving average of the weights (train/ema.ts); the saved epoch weights
   * are the average, the weights a model samples with. Absent = no average (SPEC's recipe).
   */
  ema?: number;
  /**
   * B2: weight each image's loss by min(SNR_t, gamma) / SNR_t, SNR_t = abar_t / (1 - abar_t)
   * ("Min-SNR", Hang et al. 2023): the nearly clean timesteps, whose noise is hardest to see and
   * least useful to learn early, count less. Absent = SPEC's unweighted mean.
   */
  minSnrGamma?: number;
  /** B1: noise level of the training pairs z = x + sigma eps. */
  sigma: number;
  /** B2: number of diffusion steps. */
  T: number;
  /** B2.4: probability of dropping the class (zero vector) during training. */
  pUncond: number;
  seed: number;
  /** Largest micro-batch per forward/backward pass; 0 = chosen from the backend's memory. */
  microBatch: number;
  /** Keep only N training images, evenly spaced (0 = all); for smoke tests. */
  trainLimit: number;
  /**
   * B2 noise schedule: 'linear' is Part B's (betas 1e-4..0.02, t in 1..T); 'cosine' is DeepFloyd
   * IF's squaredcos_cap_v2 (t in 0..T-1, diffusers indexing), used by Part A's built-in model.
   */
  schedule: 'linear' | 'cosine';
  /** Class-conditioned: size of the class vector (10 digits for Part B). */
  numClasses: number;
  /**
   * Class-conditioned: probability of replacing the class by the last class slot, a "generic"
   * prompt that stands for any image (Part A's "a high quality photo"). 0 = no such slot.
   */
  pGeneric: number;
  /** Pixel range the model sees: 'unit' = [0, 1] (Part B), 'symmetric' = [-1, 1] (Part A). */
  pixelRange: PixelRange;
  /** Cascade stages only: architecture and data recipe. */
  cascade?: CascadeSpec;
}

/** SPEC's numbers for each Part B model, before a profile or the user overrides them. */
export function defaultTrainConfig(kind: ModelKind): TrainConfig {
  const common = {
    finalLrFactor: 0.1,
    sigma: 0.5,
    T: 300,
    pUncond: 0.1,
    seed: 0,
    microBatch: 0,
    trainLimit: 0,
    schedule: 'linear' as const,
    numClasses: 10,
    pGeneric: 0,
    pixelRange: 'unit' as const,
  };
  switch (kind) {
    case 'denoiser':
      return { ...common, kind, hidden: 128, batchSize: 256, epochs: 5, lr: 1e-4, lrDecay: 'none' };
    case 'time':
      return { ...common, kind, hidden: 64, batchSize: 128, epochs: 20, lr: 1e-3, lrDecay: 'exponential' };
    case 'class':
      return { ...common, kind, hidden: 64, batchSize: 128, epochs: 20, lr: 1e-3, lrDecay: 'exponential' };
  }
}

/** Checks a config and says which value is wrong and what is allowed. */
export function validateTrainConfig(c: TrainConfig): void {
  const fail = (msg: string) => {
    throw new Error(`Invalid training config for "${c.kind}": ${msg}`);
  };
  if (![...MODEL_KINDS, ...CASCADE_KINDS].includes(c.kind)) fail(`kind must be one of ${[...MODEL_KINDS, ...CASCADE_KINDS].join(', ')}`);
  if (isCascadeKind(c.kind) !== (c.cascade !== undefined)) {
    fail(
      isCascadeKind(c.kind)
        ? 'a cascade stage needs its cascade spec (see pretrained/emoji-spec.ts)'
        : 'only the cascade stages (text, upsample) take a cascade spec',
    );
  }
  if (c.kind === 'text' && (!c.cascade?.text || !c.cascade.vocabulary || c.cascade.vocabulary.length + 2 !== c.cascade.text.vocabSize)) {
    fail('the text stage needs a text encoder config and a vocabulary of vocabSize - 2 words');
  }
  if (c.cascade && !['epsilon', 'v'].includes(c.cascade.prediction)) fail(`cascade.prediction must be epsilon or v, got ${c.cascade.prediction}`);
  if (c.kind === 'upsample' && !(c.cascade?.lowResSize && c.cascade.cropSize && c.cascade.maxAugLevel !== undefined)) {
    fail('the upsample stage needs lowResSize, cropSize and maxAugLevel');
  }
  const positiveInt = (name: keyof TrainConfig) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < 1) fail(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('hidden');
  positiveInt('batchSize');
  positiveInt('epochs');
  positiveInt('T');
  if (!(c.lr > 0 && Number.isFinite(c.lr))) fail(`lr must be a positive number, got ${c.lr}`);
  if (!(c.sigma >= 0)) fail(`sigma must be >= 0, got ${c.sigma}`);
  if (!(c.pUncond >= 0 && c.pUncond < 1)) fail(`pUncond must be in [0, 1), got ${c.pUncond}`);
  if (!(c.finalLrFactor > 0 && c.finalLrFactor <= 1)) fail(`finalLrFactor must be in (0, 1], got ${c.finalLrFactor}`);
  if (!Number.isInteger(c.microBatch) || c.microBatch < 0) fail(`microBatch must be 0 (auto) or a positive integer`);
  if (!Number.isInteger(c.trainLimit) || c.trainLimit < 0) fail(`trainLimit must be 0 (all) or a positive integer`);
  if (!Number.isInteger(c.seed) || c.seed < 0) fail(`seed must be a non-negative integer, got ${c.seed}`);
  if (!['none', 'exponential', 'cosine'].includes(c.lrDecay)) fail(`lrDecay must be none, exponential or cosine, got ${c.lrDecay}`);
  if (c.warmupSteps !== undefined && !(Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0)) {
    fail(`warmupSteps must be a non-negative integer, got ${c.warmupSteps}`);
  }
  if (c.warmupSteps && c.lrDecay !== 'cosine') fail(`warmupSteps needs lrDecay 'cosine' (got ${c.lrDecay})`);
  if (c.ema !== undefined && !(c.ema > 0 && c.ema < 1)) fail(`ema must be a decay in (0, 1), e.g. 0.999, got ${c.ema}`);
  if (c.minSnrGamma !== undefined && !(c.minSnrGamma > 0 && Number.isFinite(c.minSnrGamma)))
    fail(`minSnrGamma must be a positive number, e.g. 5, got ${c.minSnrGamma}`);
  if (!['linear', 'cosine'].includes(c.schedule)) fail(`schedule must be linear or cosine`);
  if (!['unit', 'symmetric'].includes(c.pixelRange)) fail(`pixelRange must be unit or symmetric`);
  positiveInt('numClasses');
  if (!(c.pGeneric >= 0 && c.pUncond + c.pGeneric < 1)) fail(`pGeneric must be >= 0 with pUncond + pGeneric < 1`);
}

/** Learning rate during `epoch` (0-based) for the per-epoch schedules (SPEC's exponential decay). */
export function learningRateAt(c: TrainConfig, epoch: number): number {
  if (c.lrDecay === 'none') return c.lr;
  if (c.lrDecay === 'cosine') throw new Error("The 'cosine' schedule changes the rate every step: use learningRateAtStep.");
  return c.lr * c.finalLrFactor ** (epoch / c.epochs);
}

/** Learning rate of optimiser step `step` (0-based) in a run of `stepsPerEpoch` steps an epoch. */
export function learningRateAtStep(c: TrainConfig, step: number, stepsPerEpoch: number): number {
  if (c.lrDecay !== 'cosine') return learningRateAt(c, Math.floor(step / stepsPerEpoch));
  const warmup = c.warmupSteps ?? 0;
  if (step < warmup) return (c.lr * (step + 1)) / warmup;
  const total = Math.max(1, c.epochs * stepsPerEpoch - warmup);
  const progress = Math.min(1, (step - warmup) / total);
  return c.lr * (c.finalLrFactor + (1 - c.finalLrFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * A short stable hash of everything that changes the trained weights: the config plus `extra`
 * facts decided elsewhere (the data source, the micro-batch size actually used).
 */
export function configHash(c: TrainConfig, extra: Record<string, string | number> = {}): string {
  const keys = Object.keys(c).sort() as Array<keyof TrainConfig>;
  const obj: Record<string, unknown> = {};
  for (const k of keys) obj[k] = c[k];
  for (const k of Object.keys(extra).sort()) obj[`extra.${k}`] = extra[k];
  return crypto.createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 12);
}
