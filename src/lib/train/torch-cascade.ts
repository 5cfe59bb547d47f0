import type { CascadeUNet } from '../nn/cascade-unet';
import type { TextToImageNet } from '../nn/text-to-image';
import { NamedTensor } from '../io/safetensors';
import { detectLayout, fromTorchState, LAYOUT_KEY, stateSpec, toTorchState } from '../io/torch-layout';
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
  const values = new Map(net.stateEntries().map(([name, v]) => [name, { shape: [...v.shape], data: v.dataSync() as Float32Array }]));
  const tensors = toTorchState(stateSpec(net), values);
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
