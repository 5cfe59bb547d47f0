import * as fs from 'fs';
import { tf } from './backend/tf';
import { NamedTensor, readSafetensorsFile, toFloat32, writeSafetensorsFile } from './io/safetensors';
import { LAYOUT_KEY, requireTfjsLayout } from './io/torch-layout';

/**
 * Checkpoints are safetensors files: one float32 tensor per model parameter / buffer (and, for
 * training checkpoints, per optimiser moment), with small string metadata (epoch, step, config)
 * and "layout": "tfjs" (the tensors' axis order; io/torch-layout.ts converts to PyTorch's).
 */

export type StateValues = Map<string, { shape: number[]; data: Float32Array }>;

export interface LoadedCheckpoint {
  values: StateValues;
  metadata: Record<string, string>;
}

/** Saves named variables (read back from the backend) atomically. */
export async function saveCheckpoint(
  file: string,
  entries: ReadonlyArray<[string, tf.Tensor]>,
  metadata: Record<string, string>,
): Promise<void> {
  const values = await Promise.all(entries.map(([, t]) => t.data() as Promise<Float32Array>));
  writeSafetensorsFile(file, checkpointTensors(entries, values), { ...metadata, [LAYOUT_KEY]: 'tfjs' });
}

/** saveCheckpoint for synchronous loops (reads the values with dataSync). */
export function saveCheckpointSync(file: string, entries: ReadonlyArray<[string, tf.Tensor]>, metadata: Record<string, string>): void {
  writeSafetensorsFile(file, checkpointTensors(entries, entries.map(([, t]) => t.dataSync() as Float32Array)), { ...metadata, [LAYOUT_KEY]: 'tfjs' });
}

function checkpointTensors(entries: ReadonlyArray<[string, tf.Tensor]>, values: Float32Array[]): Record<string, NamedTensor> {
  const tensors: Record<string, NamedTensor> = {};
  entries.forEach(([name, t], i) => {
    if (name in tensors) throw new Error(`saveCheckpoint: duplicate tensor name "${name}"`);
    tensors[name] = { dtype: 'F32', shape: [...t.shape], data: values[i] };
  });
  return tensors;
}

/**
 * Reads a checkpoint; a missing, truncated or corrupt file is a clear error naming it, and so is
 * a PyTorch-layout file (import those with importTorchUNet / diffusion import --torch).
 */
export function loadCheckpoint(file: string): LoadedCheckpoint {
  if (!fs.existsSync(file)) {
    throw new Error(`Checkpoint not found: ${file}. Train the model first (diffusion train ...) or pass the right path.`);
  }
  const { tensors, metadata } = readSafetensorsFile(file);
  requireTfjsLayout(metadata, Object.keys(tensors), file);
  const values: StateValues = new Map();
  for (const [name, t] of Object.entries(tensors)) values.set(name, { shape: t.shape, data: toFloat32(t) });
  return { values, metadata };
}
