import type { CascadeUNet } from '../nn/cascade-unet';
import type { TextToImageNet } from '../nn/text-to-image';
import type { ImageDataset } from '../data/dataset';
import { sha256 } from '../io/checksums';
import { NamedTensor } from '../io/safetensors';
import { CAPTION_FRAMES, DEFAULT_CAPTION_RECIPE } from '../text/captions';
import { GENERIC_CAPTION } from './cascade-objectives';
import { detectLayout, fromTorchState, LAYOUT_KEY, modelTorchState, stateSpec } from '../io/torch-layout';
import { TrainConfig, isCascadeKind } from './config';
import { createNetwork } from './networks';

/**
 * Part A's cascade stages (the built-in colour model) to and from PyTorch state dicts, for
 * scripts/torch_cascade.py, whose modules carry the same names. The metadata carries the stage's
 * training config (`config`) and, for the Python side, its cascade spec alone (`cascade`), from
 * which both sides build the same network.
 */

export const TORCH_CASCADE_MODEL = 'diffusion-ts cascade stage';

export interface TorchCascadeFile {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

type CascadeNet = TextToImageNet | CascadeUNet;

function requireCascade(config: TrainConfig, what: string): void {
  if (!isCascadeKind(config.kind) || !config.cascade) {
    throw new Error(`${what}: a ${config.kind} config is not a cascade stage (stage I is kind "text", stage II "upsample").`);
  }
}

/** A cascade stage's weights as a PyTorch state dict with its config in the metadata. Reads the values back from the backend. */
export function exportTorchCascade(net: CascadeNet, config: TrainConfig, extra: Record<string, string> = {}): TorchCascadeFile {
  requireCascade(config, 'exportTorchCascade');
  const tensors = modelTorchState(net);
  const metadata: Record<string, string> = {
    ...extra,
    [LAYOUT_KEY]: 'torch',
    format: 'pt',
    model: TORCH_CASCADE_MODEL,
    kind: config.kind,
    cascade: JSON.stringify(config.cascade),
    config: JSON.stringify(config),
  };
  return { tensors, metadata };
}

/**
 * Builds the cascade stage a PyTorch state dict's metadata describes and loads its tensors
 * (converted to TF.js layout). Every tensor that does not fit is named.
 */
export function importTorchCascade(file: TorchCascadeFile, source: string): { net: CascadeNet; config: TrainConfig } {
  const { tensors, metadata } = file;
  detectLayout(metadata, Object.keys(tensors), source);
  if (metadata[LAYOUT_KEY] !== 'torch') {
    throw new Error(
      `${source} is not in PyTorch layout (metadata "${LAYOUT_KEY}": ${JSON.stringify(metadata[LAYOUT_KEY])}): load it directly, no import needed.`,
    );
  }
  if (!metadata.config) {
    throw new Error(`${source} has no "config" in its metadata: a cascade stage needs its training config (scripts/train_emoji_torch.py writes it).`);
  }
  const config = JSON.parse(metadata.config) as TrainConfig;
  requireCascade(config, source);
  const net = createNetwork(config) as CascadeNet;
  try {
    net.loadState(fromTorchState(stateSpec(net), tensors, source), source);
  } catch (err) {
    net.dispose();
    throw err;
  }
  return { net, config };
}

/** The metadata "format" of stage I's training data for scripts/train_emoji_torch.py. */
export const STAGE1_DATA_FORMAT = 'diffusion-ts emoji stage I data';

/**
 * Stage I's training set as one file for a GPU machine (scripts/train_emoji_torch.py): the images
 * as bytes (U8 [N, H, W, 3], the [0, 1] values times 255, rounded), each image's subject and
 * style, and in the metadata everything a caption is composed from (the subjects' names and
 * keywords, the style words, the frames, the recipe and the generic prompt) with the stage's
 * config, whose vocabulary turns captions into token ids as here.
 */
export function stage1DataFile(set: ImageDataset, config: TrainConfig, extra: Record<string, string> = {}): TorchCascadeFile {
  requireCascade(config, 'stage1DataFile');
  const spec = config.cascade!;
  if (config.kind !== 'text' || !spec.text || !spec.vocabulary)
    throw new Error('stage1DataFile: the config must be stage I\'s (kind "text", with its text encoder and vocabulary).');
  if (!set.captions) throw new Error('stage1DataFile: the data set has no captions (load it with emojiTrainingSet).');
  if (set.height !== spec.imageSize || set.width !== spec.imageSize || (set.channels ?? 1) !== 3) {
    throw new Error(`stage1DataFile: stage I trains on ${spec.imageSize} px RGB images; the set has ${set.height}x${set.width}x${set.channels ?? 1}.`);
  }
  const images = new Uint8Array(set.images.length);
  for (let i = 0; i < images.length; i++) images[i] = Math.round(Math.min(1, Math.max(0, set.images[i])) * 255);
  const { subjects, styleWords, style } = set.captions;
  const captions = { subjects, styleWords, frames: CAPTION_FRAMES, recipe: spec.captions ?? DEFAULT_CAPTION_RECIPE, generic: GENERIC_CAPTION };
  return {
    tensors: {
      images: { dtype: 'U8', shape: [set.count, set.height, set.width, 3], data: images },
      labels: { dtype: 'I32', shape: [set.count], data: Int32Array.from(set.labels) },
      styles: { dtype: 'I32', shape: [set.count], data: Int32Array.from(style) },
    },
    metadata: {
      ...extra,
      format: STAGE1_DATA_FORMAT,
      count: String(set.count),
      dataSha256: sha256(images),
      captions: JSON.stringify(captions),
      config: JSON.stringify(config),
    },
  };
}
