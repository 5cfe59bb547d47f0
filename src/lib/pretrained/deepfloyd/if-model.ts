import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../backend/tf';
import { cosineSchedule, NoiseSchedule } from '../../noise-schedules';
import { DiffusionModel, ModelOutput } from '../model';
import { IFUNetConfig, readIFUNetConfig } from './config';
import { MemoryEstimate } from './memory';
import { IFUNet } from './unet';
import { LoadWeightsOptions, loadIFWeights } from './weights';

/**
 * DeepFloyd IF stage I behind the Part A model interface. A prompt embedding is T5's output
 * [L, D] (IF: [77, 4096]) flattened to one row of L*D values, which is what PromptDictionary
 * stores; predict() also takes the unflattened [B, L, D] states.
 */
export class DeepFloydIFModel implements DiffusionModel {
  readonly imageSize: number;
  readonly channels: number;
  readonly schedule: NoiseSchedule = cosineSchedule(1000);
  /** IF predicts noise and a learned-range variance value per channel (6 = 3 + 3 outputs). */
  readonly learnedVariance: boolean;
  /** Width of one text token (T5-XXL: 4096). */
  readonly textWidth: number;

  constructor(
    readonly unet: IFUNet,
    readonly name = 'deepfloyd-if',
    readonly memory?: MemoryEstimate,
  ) {
    const c = unet.config;
    this.imageSize = c.sampleSize;
    this.channels = c.inChannels;
    if (c.outChannels !== c.inChannels && c.outChannels !== 2 * c.inChannels) {
      throw new Error(
        `DeepFloyd IF: out_channels ${c.outChannels} is neither in_channels (${c.inChannels}) nor twice it; the model interface needs noise (and optionally variance) per channel.`,
      );
    }
    this.learnedVariance = c.outChannels === 2 * c.inChannels;
    this.textWidth = c.encoderHidDim ?? c.crossAttentionDim;
  }

  get config(): IFUNetConfig {
    return this.unet.config;
  }

  /** [B or 1, L*D] flattened or [B or 1, L, D] prompt embeddings -> [B, L, D]. */
  textStates(prompt: tf.Tensor2D | tf.Tensor3D, batch: number): tf.Tensor3D {
    const d = this.textWidth;
    let states: tf.Tensor3D;
    if (prompt.rank === 2) {
      const [rows, size] = prompt.shape;
      if (size % d !== 0) {
        throw new Error(
          `DeepFloyd IF: a flattened prompt embedding must have a multiple of ${d} values (tokens x ${d}), got ${size}. Use embeddings of this model's text encoder (T5-XXL states [77, ${d}]).`,
        );
      }
      states = tf.reshape(prompt, [rows, size / d, d]);
    } else if (prompt.rank === 3 && prompt.shape[2] === d) {
      states = prompt as tf.Tensor3D;
    } else {
      throw new Error(`DeepFloyd IF: prompt embeddings must be [B, L*${d}] or [B, L, ${d}], got [${prompt.shape.join(', ')}].`);
    }
    const rows = states.shape[0];
    if (rows === batch) return states;
    if (rows === 1) return tf.tile(states, [batch, 1, 1]);
    throw new Error(`DeepFloyd IF: ${rows} prompt embeddings for a batch of ${batch}; give one, or one per image.`);
  }

  predict(xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D | tf.Tensor3D): ModelOutput {
    if (!Number.isInteger(t) || t < 0 || t >= this.schedule.T) {
      throw new Error(`DeepFloyd IF: timestep ${t} is outside 0..${this.schedule.T - 1}; pass an integer timestep of the 1000-step schedule.`);
    }
    const batch = xt.shape[0];
    return tf.tidy(() => {
      const out = this.unet.forward(xt, new Array<number>(batch).fill(t), this.textStates(prompt, batch));
      const c = this.channels;
      const eps = tf.slice(out, [0, 0, 0, 0], [-1, -1, -1, c]);
      if (!this.learnedVariance) return { eps };
      return { eps, varValue: tf.slice(out, [0, 0, 0, c], [-1, -1, -1, c]) };
    });
  }

  dispose(): void {
    this.unet.weights.dispose();
  }
}

export interface LoadIFOptions extends LoadWeightsOptions {
  name?: string;
}

/**
 * Loads IF stage I from a diffusers model folder (the folder with unet/, e.g. a Hugging Face
 * snapshot of DeepFloyd/IF-I-M-v1.0) or from its unet/ folder. Refuses before reading the
 * weights when the backend cannot hold them (see memory.ts).
 */
export function loadDeepFloydIF(folder: string, opts: LoadIFOptions = {}): DeepFloydIFModel {
  const unetDir = fs.existsSync(path.join(folder, 'unet', 'config.json')) ? path.join(folder, 'unet') : folder;
  const configFile = path.join(unetDir, 'config.json');
  if (!fs.existsSync(configFile)) {
    throw new Error(
      `DeepFloyd IF: ${folder} has neither unet/config.json nor config.json. Give the folder of a diffusers DeepFloyd IF stage-I model (the one holding unet/).`,
    );
  }
  const config = readIFUNetConfig(configFile);
  const { weights, memory } = loadIFWeights(unetDir, config, opts);
  return new DeepFloydIFModel(new IFUNet(config, weights), opts.name ?? `deepfloyd-if:${path.basename(path.resolve(folder))}`, memory);
}
