import { tf } from '../backend/tf';
import { NoiseSchedule } from '../noise-schedules';

/** What a Part A model returns for one call: the noise estimate and, optionally, its learned variance. */
export interface ModelOutput {
  /** Predicted noise eps_hat, same shape as x_t. */
  eps: tf.Tensor4D;
  /**
   * Learned-range variance values v in [-1, 1], same shape as x_t (SPEC Part A: frac = (v + 1) / 2
   * interpolates log variance between the posterior variance and beta). Present exactly when
   * the model's `learnedVariance` is true.
   */
  varValue?: tf.Tensor4D;
}

/**
 * A pretrained text-conditioned diffusion model, in the spirit of a diffusers UNet call
 * (`unet(x_t, t, encoder_hidden_states)`). Part A's algorithms only use this interface.
 */
export interface DiffusionModel {
  readonly name: string;
  /** Height = width of the images the model works on. */
  readonly imageSize: number;
  readonly channels: number;
  /** The schedule the model was trained with; Part A uses T = 1000 cosine (cosineSchedule()). */
  readonly schedule: NoiseSchedule;
  /** True when predict() returns `varValue` (DeepFloyd IF's learned-range variance). */
  readonly learnedVariance: boolean;
  /**
   * Clip x0_hat to [-1, 1] in every denoising step (diffusers' clip_sample), for models whose
   * eps is not accurate enough near t = T; absent or false: SPEC's formula as written.
   */
  readonly clipSample?: boolean;
  /**
   * One network evaluation. The caller owns (and disposes) the returned tensors.
   * @param xt noisy images [B, imageSize, imageSize, channels], NHWC, values about [-1, 1]
   * @param t integer timestep 0..T-1 (the same for the whole batch)
   * @param prompt prompt embeddings [B, E], or [1, E] to use one prompt for the whole batch
   */
  predict(xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D): ModelOutput;
}

/**
 * Prompt strings -> embeddings [B, E], what Part A's notebooks ask of a model's text side: a
 * dictionary of precomputed embeddings (PromptDictionary) or a text encoder (the built-in colour
 * model's). `embed('')` is the unconditional embedding of classifier-free guidance.
 */
export interface PromptEncoder {
  /** Size E of one embedding. */
  readonly dim: number;
  /** True when `prompt` can be embedded (known prompt, or only known words). */
  has(prompt: string): boolean;
  /** One prompt, [1, E]; an unknown prompt is an error that says what is known. */
  embed(prompt: string): tf.Tensor2D;
  /** One embedding per prompt, [B, E]. */
  embedMany(prompts: readonly string[]): tf.Tensor2D;
}

/**
 * Prompt strings -> embeddings, like the original's dictionary of precomputed text embeddings.
 * For DeepFloyd IF an embedding would be T5's output flattened; for a small class-conditioned
 * model it is a class code. An unknown prompt is an error that lists the known prompts.
 */
export class PromptDictionary implements PromptEncoder {
  private readonly entries: Map<string, Float32Array>;

  constructor(
    entries: Map<string, Float32Array>,
    readonly dim: number,
  ) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`PromptDictionary: embedding size must be a positive integer, got ${dim}`);
    for (const [prompt, vector] of entries) {
      if (vector.length !== dim) {
        throw new Error(
          `PromptDictionary: the embedding of "${prompt}" has ${vector.length} values, expected ${dim}; give every prompt an embedding of size ${dim}`,
        );
      }
    }
    this.entries = new Map(entries);
  }

  has(prompt: string): boolean {
    return this.entries.has(prompt);
  }

  /** The known prompts, in insertion order. */
  prompts(): string[] {
    return [...this.entries.keys()];
  }

  /** The raw embedding of one prompt (a copy). */
  vector(prompt: string): Float32Array {
    const v = this.entries.get(prompt);
    if (v === undefined) {
      const known = this.prompts()
        .map((p) => JSON.stringify(p))
        .join(', ');
      throw new Error(`Unknown prompt ${JSON.stringify(prompt)}: this model knows only these prompts: ${known}. Use one of them (spelled exactly).`);
    }
    return v.slice();
  }

  /** The embedding of one prompt, [1, E]. */
  embed(prompt: string): tf.Tensor2D {
    return tf.tensor2d(this.vector(prompt), [1, this.dim]);
  }

  /** One embedding per prompt, [B, E] (e.g. a different prompt for each sample of a batch). */
  embedMany(prompts: readonly string[]): tf.Tensor2D {
    if (prompts.length === 0) throw new Error('PromptDictionary.embedMany: give at least one prompt');
    const out = new Float32Array(prompts.length * this.dim);
    prompts.forEach((p, i) => out.set(this.vector(p), i * this.dim));
    return tf.tensor2d(out, [prompts.length, this.dim]);
  }
}

/**
 * A super-resolution diffusion model (a cascade's second stage, like DeepFloyd IF stage II):
 * predicts the noise in x_t at `imageSize` px given the low-resolution image enlarged to
 * `imageSize` and noised to `augLevel` (noise augmentation). Used by pipelines/upsample.ts.
 */
export interface SuperResolutionModel {
  readonly name: string;
  readonly imageSize: number;
  readonly lowResSize: number;
  readonly channels: number;
  readonly schedule: NoiseSchedule;
  /** The largest augmentation level it was trained with. */
  readonly maxAugLevel: number;
  /** As DiffusionModel.clipSample. */
  readonly clipSample?: boolean;
  /** eps [B, imageSize, imageSize, channels]; lowRes has the shape of xt. The caller disposes the result. */
  predict(xt: tf.Tensor4D, t: number, lowRes: tf.Tensor4D, augLevel: number): tf.Tensor4D;
}
