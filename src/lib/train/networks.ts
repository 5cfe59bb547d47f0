import { tf } from '../backend/tf';
import { gatherImages, gatherLabels } from '../data/batches';
import type { ImageDataset } from '../data/dataset';
import { CascadeUNet } from '../nn/cascade-unet';
import { ForwardContext } from '../nn/module';
import { TextToImageNet } from '../nn/text-to-image';
import { UNet } from '../nn/unet';
import { deriveSeed, Rng } from '../random';
import { NoiseSchedule, scheduleNamed } from '../noise-schedules';
import { cascadeBatchLoss, drawCascadeBatch } from './cascade-objectives';
import { isCascadeKind, NetworkKind, TrainConfig } from './config';
import { BatchDraw, batchLoss, drawBatch } from './objectives';

/**
 * What the trainer and its gradient workers need to know about each kind of network, in one
 * place: how to build it from a config, how to draw a batch for it, and its loss.
 */

/** Every network the trainer trains: Part B's UNets and the two stages of Part A's cascade. */
export type TrainableNet = UNet | TextToImageNet | CascadeUNet;

/** Builds the Part B UNet a config describes, initialised from the config's seed. */
export function createModel(config: { kind: NetworkKind; hidden: number; seed: number; numClasses?: number }): UNet {
  if (isCascadeKind(config.kind)) throw new Error(`createModel builds Part B's UNets; a ${config.kind} stage is built by createNetwork`);
  const conditioning = config.kind === 'denoiser' ? 'none' : config.kind;
  return new UNet({ hidden: config.hidden, conditioning, numClasses: config.numClasses ?? 10 }, new Rng(deriveSeed(config.seed, 'init')));
}

/** Builds any trainable network from its config (the same weights for the same seed). */
export function createNetwork(config: TrainConfig): TrainableNet {
  if (!isCascadeKind(config.kind)) return createModel(config);
  const spec = config.cascade;
  if (!spec) throw new Error(`A ${config.kind} stage needs its cascade spec`);
  const rng = new Rng(deriveSeed(config.seed, 'init'));
  if (config.kind === 'text') {
    if (!spec.text) throw new Error('The text stage needs a text encoder config');
    return new TextToImageNet(spec.text, spec.unet, rng);
  }
  return new CascadeUNet(spec.unet, rng);
}

/** The noise schedule a config trains with (null for the single-step denoiser). */
export function scheduleFor(config: Pick<TrainConfig, 'kind' | 'schedule' | 'T'>): NoiseSchedule | null {
  if (config.kind === 'denoiser') return null;
  return scheduleNamed(config.schedule, config.T);
}

/** One training batch for the images of `set` at `indices`, with the schedule the run trains with. */
export function drawTrainingBatch(config: TrainConfig, schedule: NoiseSchedule | null, set: ImageDataset, indices: ArrayLike<number>, rng: Rng): BatchDraw {
  if (isCascadeKind(config.kind)) {
    if (!schedule) throw new Error(`A ${config.kind} stage needs a noise schedule`);
    return drawCascadeBatch(config, schedule, set, indices, rng);
  }
  return drawBatch(config, gatherImages(set, indices), gatherLabels(set, indices), rng);
}

/** The training loss of one (micro-)batch. */
export function networkLoss(net: TrainableNet, config: TrainConfig, schedule: NoiseSchedule | null, draw: BatchDraw, ctx: ForwardContext): tf.Scalar {
  if (net instanceof UNet) return batchLoss(net, config, schedule, draw, ctx);
  if (!schedule) throw new Error(`A ${config.kind} stage needs a noise schedule`);
  return cascadeBatchLoss(net, config, schedule, draw, ctx);
}
