import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../backend/tf';
import { loadCheckpoint } from '../checkpoint';
import { checkShippedFile } from '../io/checksums';
import { sourceFile } from '../io/source-files';
import { CascadeUNet } from '../nn/cascade-unet';
import { TextToImageNet } from '../nn/text-to-image';
import { cosineSchedule, NoiseSchedule } from '../noise-schedules';
import { Vocabulary } from '../text/tokenizer';
import { TrainConfig } from '../train/config';
import { epsFromVelocity } from '../scheduler';
import { createNetwork } from '../train/networks';
import { readNetworkFile } from '../train/network-file';
import { DiffusionModel, ModelOutput, PromptEncoder, SuperResolutionModel } from './model';

/**
 * Part A's built-in colour model behind the Part A interfaces:
 *  - EmojiTextToImage (stage I, a DiffusionModel): 32x32 RGB from text;
 *  - EmojiPrompts (a PromptEncoder): its text encoder, prompt -> embedding;
 *  - EmojiUpsampler (stage II, a SuperResolutionModel): 32 -> 64 px.
 *
 * A prompt's embedding is one row [pooled (P) | token features (L x d) | padding bias (L)], so
 * the pipelines can treat it like any other embedding (stack, tile, mix the unconditional one in).
 */

/** The shipped weights folder (src/lib/pretrained/weights). */
export function weightsDir(): string {
  return sourceFile('pretrained', 'weights');
}

export const EMOJI_STAGE1_FILE = 'emoji-stage1.safetensors';
export const EMOJI_STAGE2_FILE = 'emoji-stage2.safetensors';

/** Splits embeddings [B, P + L*d + L] back into what the UNet takes. */
function splitEmbedding(prompt: tf.Tensor2D, n: number, p: number, l: number, d: number) {
  const rows = prompt.shape[0] === n ? prompt : (tf.tile(prompt, [n, 1]) as tf.Tensor2D);
  const pooled = tf.slice(rows, [0, 0], [n, p]) as tf.Tensor2D;
  const tokens = tf.reshape(tf.slice(rows, [0, p], [n, l * d]), [n, l, d]) as tf.Tensor3D;
  const bias = tf.slice(rows, [0, p + l * d], [n, l]) as tf.Tensor2D;
  return { pooled, context: { tokens, bias } };
}

export class EmojiTextToImage implements DiffusionModel {
  readonly name = 'builtin colour model, stage I (text -> 32x32 RGB, trained on emoji art)';
  readonly imageSize: number;
  readonly channels = 3;
  readonly learnedVariance = false;
  /** Measured: without it the first steps' x0_hat (eps error x ~70 at t = 990) saturates every sample. */
  readonly clipSample = true;
  readonly schedule: NoiseSchedule;

  constructor(
    readonly net: TextToImageNet,
    readonly config: TrainConfig,
  ) {
    this.imageSize = config.cascade!.imageSize;
    this.schedule = cosineSchedule(config.T);
  }

  get embeddingDim(): number {
    const t = this.config.cascade!.text!;
    return t.pooledDim + t.maxTokens * (t.dim + 1);
  }

  predict(xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D): ModelOutput {
    const n = xt.shape[0];
    if (!Number.isInteger(t) || t < 0 || t >= this.config.T)
      throw new Error(`EmojiTextToImage.predict: t must be an integer timestep in 0..${this.config.T - 1}, got ${t}`);
    if (prompt.shape[1] !== this.embeddingDim || (prompt.shape[0] !== 1 && prompt.shape[0] !== n)) {
      throw new Error(
        `EmojiTextToImage.predict: prompt embeddings must be [1 or ${n}, ${this.embeddingDim}] (from EmojiPrompts.embed), got [${prompt.shape.join(', ')}]`,
      );
    }
    const te = this.config.cascade!.text!;
    return tf.tidy(() => {
      const text = splitEmbedding(prompt, n, te.pooledDim, te.maxTokens, te.dim);
      return { eps: this.asEps(this.net.predictEncoded(xt, new Array(n).fill(t), text), xt, t) };
    });
  }

  /** The network's output as eps (it predicts v when trained so). */
  private asEps(out: tf.Tensor4D, xt: tf.Tensor4D, t: number): tf.Tensor4D {
    return this.config.cascade!.prediction === 'v' ? epsFromVelocity(out, xt, t, this.schedule) : out;
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** The colour model's prompts: free text of known words, embedded by its text encoder. */
export class EmojiPrompts implements PromptEncoder {
  readonly vocabulary: Vocabulary;
  readonly dim: number;

  constructor(private readonly model: EmojiTextToImage) {
    const c = model.config.cascade!;
    this.vocabulary = new Vocabulary(c.vocabulary!, c.text!.maxTokens);
    this.dim = model.embeddingDim;
  }

  has(prompt: string): boolean {
    try {
      this.vocabulary.encode(prompt);
      return true;
    } catch {
      return false;
    }
  }

  embed(prompt: string): tf.Tensor2D {
    return this.embedMany([prompt]);
  }

  embedMany(prompts: readonly string[]): tf.Tensor2D {
    if (prompts.length === 0) throw new Error('EmojiPrompts.embedMany: give at least one prompt');
    const ids = this.vocabulary.encodeMany(prompts);
    return tf.tidy(() => {
      const { pooled, context } = this.model.net.text.forward(ids);
      const n = prompts.length;
      return tf.concat([pooled, tf.reshape(context.tokens, [n, -1]), context.bias], 1) as tf.Tensor2D;
    });
  }
}

export class EmojiUpsampler implements SuperResolutionModel {
  readonly name = 'builtin colour model, stage II (32 -> 64 px super-resolution)';
  readonly imageSize: number;
  readonly lowResSize: number;
  readonly channels = 3;
  readonly maxAugLevel: number;
  readonly clipSample = true;
  readonly schedule: NoiseSchedule;

  constructor(
    readonly net: CascadeUNet,
    readonly config: TrainConfig,
  ) {
    const c = config.cascade!;
    this.imageSize = c.imageSize;
    this.lowResSize = c.lowResSize!;
    this.maxAugLevel = c.maxAugLevel!;
    this.schedule = cosineSchedule(config.T);
  }

  predict(xt: tf.Tensor4D, t: number, lowRes: tf.Tensor4D, augLevel: number): tf.Tensor4D {
    const n = xt.shape[0];
    return tf.tidy(() => {
      const out = this.net.forward({ x: xt, t: new Array(n).fill(t), lowRes, augLevel: new Array(n).fill(augLevel) });
      return this.config.cascade!.prediction === 'v' ? epsFromVelocity(out, xt, t, this.schedule) : out;
    });
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** Stage I and its prompt encoder from the bytes of a network file (read from disk, or fetched). */
export function emojiStage1FromBytes(bytes: Uint8Array, source: string): { stage1: EmojiTextToImage; prompts: EmojiPrompts } {
  const { net, config } = readNetworkFile(bytes, source, 'text');
  const stage1 = new EmojiTextToImage(net as TextToImageNet, config);
  return { stage1, prompts: new EmojiPrompts(stage1) };
}

/** Stage II from the bytes of a network file. */
export function emojiStage2FromBytes(bytes: Uint8Array, source: string): EmojiUpsampler {
  const { net, config } = readNetworkFile(bytes, source, 'upsample');
  return new EmojiUpsampler(net as CascadeUNet, config);
}

function readWeights(file: string): Uint8Array {
  if (!fs.existsSync(file)) {
    throw new Error(
      `The built-in colour model's weights are missing: ${file}. They ship with the repository; restore ` +
        'src/lib/pretrained/weights/ from git, or retrain them with `diffusion pretrain emoji --export`.',
    );
  }
  const bytes = fs.readFileSync(file);
  checkShippedFile(file, bytes);
  return bytes;
}

/** The two shipped stages (no training, no network access). */
export function loadEmojiCascade(dir = weightsDir()): { stage1: EmojiTextToImage; prompts: EmojiPrompts; stage2: EmojiUpsampler } {
  const file1 = path.join(dir, EMOJI_STAGE1_FILE);
  const file2 = path.join(dir, EMOJI_STAGE2_FILE);
  return { ...emojiStage1FromBytes(readWeights(file1), file1), stage2: emojiStage2FromBytes(readWeights(file2), file2) };
}

/** The built-in colour model: a text-to-image cascade (pipelines/text-to-image.ts) with dispose(). */
export interface BuiltinColourModel {
  /** Prompt -> 32x32 RGB. */
  stage1: EmojiTextToImage;
  /** The prompt encoder: free text of the words the model knows. */
  prompts: EmojiPrompts;
  /** 32 -> 64 px super-resolution. */
  stage2: EmojiUpsampler;
  /** Frees both stages' weights. */
  dispose(): void;
}

/**
 * Loads Part A's built-in colour model, both stages, from the shipped weights (no training, no
 * network); `textToImage(model, 'a rocket ship')` draws with it.
 */
export function loadBuiltinColourModel(dir = weightsDir()): BuiltinColourModel {
  const { stage1, prompts, stage2 } = loadEmojiCascade(dir);
  return {
    stage1,
    prompts,
    stage2,
    dispose: () => {
      stage1.dispose();
      stage2.dispose();
    },
  };
}

/** Stage I alone, from a weights file or a run's epoch weights plus its run.json config. */
export function loadEmojiStage1(file: string, config?: TrainConfig): { stage1: EmojiTextToImage; prompts: EmojiPrompts } {
  if (!config) return emojiStage1FromBytes(readWeights(file), file);
  const net = createNetwork(config) as TextToImageNet;
  net.loadState(loadCheckpoint(file).values, file);
  const stage1 = new EmojiTextToImage(net, config);
  return { stage1, prompts: new EmojiPrompts(stage1) };
}
