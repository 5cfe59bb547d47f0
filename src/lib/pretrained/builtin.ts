import * as fs from 'fs';
import { tf } from '../backend/tf';
import { loadCheckpoint } from '../checkpoint';
import { sourceFile } from '../io/source-files';
import { UNet } from '../nn/unet';
import { Rng } from '../random';
import { cosineSchedule, NoiseSchedule } from '../noise-schedules';
import { TrainConfig } from '../train/config';
import { BUILTIN_PROMPTS, UNCONDITIONAL_PROMPT } from './builtin-spec';
import { DiffusionModel, ModelOutput, PromptDictionary } from './model';

/** The shipped weights (src/lib/pretrained/weights/builtin.safetensors). */
export function builtinWeightsFile(): string {
  const file = sourceFile('pretrained', 'weights', 'builtin.safetensors');
  if (!fs.existsSync(file)) {
    throw new Error(
      `The built-in model's weights are missing: ${file}. ` +
        'They ship with the repository; restore src/lib/pretrained/weights/ from git, or retrain them with `diffusion pretrain --export`.',
    );
  }
  return file;
}

/**
 * Part A's built-in model behind the DiffusionModel interface: a class-conditioned UNet on
 * 28x28 grayscale images in [-1, 1] with DeepFloyd IF's cosine schedule (T = 1000). Its prompt
 * embedding is a class code: one-hot over BUILTIN_PROMPTS, and zeros for "".
 */
export class BuiltinModel implements DiffusionModel {
  readonly name = 'builtin (class-conditioned UNet, MNIST + Fashion-MNIST)';
  readonly imageSize = 28;
  readonly channels = 1;
  readonly learnedVariance = false;
  readonly schedule: NoiseSchedule;

  constructor(
    readonly unet: UNet,
    readonly config: TrainConfig,
  ) {
    this.schedule = cosineSchedule(config.T);
  }

  predict(xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D): ModelOutput {
    const n = xt.shape[0];
    if (!Number.isInteger(t) || t < 0 || t >= this.config.T) {
      throw new Error(`BuiltinModel.predict: t must be an integer timestep in 0..${this.config.T - 1}, got ${t}`);
    }
    if (prompt.shape[1] !== this.config.numClasses) {
      throw new Error(`BuiltinModel.predict: prompt embeddings must have ${this.config.numClasses} values (use builtinPrompts()), got ${prompt.shape[1]}`);
    }
    return tf.tidy(() => {
      const c = prompt.shape[0] === n ? prompt : (tf.tile(prompt, [n, 1]) as tf.Tensor2D);
      const tNorm = tf.fill([n, 1], t / this.config.T) as tf.Tensor2D;
      return { eps: this.unet.forward({ x: xt, t: tNorm, c }) };
    });
  }

  dispose(): void {
    this.unet.dispose();
  }
}

/** The built-in model's prompt dictionary: its 21 prompts and "" (unconditional). */
export function builtinPrompts(): PromptDictionary {
  const dim = BUILTIN_PROMPTS.length;
  const entries = new Map<string, Float32Array>();
  BUILTIN_PROMPTS.forEach((p, i) => {
    const v = new Float32Array(dim);
    v[i] = 1;
    entries.set(p, v);
  });
  entries.set(UNCONDITIONAL_PROMPT, new Float32Array(dim));
  return new PromptDictionary(entries, dim);
}

/** Loads the shipped built-in digits model, 28x28 gray digits and clothes (no training, no network). */
export function loadBuiltinDigitsModel(file = builtinWeightsFile()): BuiltinModel {
  const { values, metadata } = loadCheckpoint(file);
  if (!metadata.config) throw new Error(`${file} has no "config" metadata: it is not a built-in model export.`);
  const config = JSON.parse(metadata.config) as TrainConfig;
  const unet = new UNet({ hidden: config.hidden, conditioning: 'class', numClasses: config.numClasses }, new Rng(0));
  unet.loadState(values, file);
  return new BuiltinModel(unet, config);
}

/** @deprecated The same as loadBuiltinDigitsModel, whose name says which built-in model it loads. */
export const loadBuiltinModel = loadBuiltinDigitsModel;
