import * as fs from 'fs';
import { tf } from './backend/tf';
import { writeFileAtomic } from './io/atomic';
import { checkDataChecksum, checkShippedFile, DATA_CHECKSUM_KEY, sha256 } from './io/checksums';
import { decodeSafetensors, encodeSafetensors, NamedTensor, toFloat32 } from './io/safetensors';
import { LAYOUT_KEY, requireTfjsLayout } from './io/torch-layout';

/**
 * Checkpoints are safetensors files: one float32 tensor per model parameter / buffer (and, for
 * training checkpoints, per optimiser moment), with small string metadata (epoch, step, config)
 * and "layout": "tfjs" (the tensors' axis order; io/torch-layout.ts converts to PyTorch's), and
 * the SHA-256 of the tensor data, checked on load (io/checksums.ts).
 */

export type StateValues = Map<string, { shape: number[]; data: Float32Array }>;

export interface LoadedCheckpoint {
  values: StateValues;
  metadata: Record<string, string>;
}

/** Saves named variables (read back from the backend) atomically. */
export async function saveCheckpoint(file: string, entries: ReadonlyArray<[string, tf.Tensor]>, metadata: Record<string, string>): Promise<void> {
  const values = await Promise.all(entries.map(([, t]) => t.data() as Promise<Float32Array>));
  writeChecked(file, checkpointTensors(entries, values), { ...metadata, [LAYOUT_KEY]: 'tfjs' });
}

/** saveCheckpoint for synchronous loops (reads the values with dataSync). */
export function saveCheckpointSync(file: string, entries: ReadonlyArray<[string, tf.Tensor]>, metadata: Record<string, string>): void {
  writeChecked(
    file,
    checkpointTensors(
      entries,
      entries.map(([, t]) => t.dataSync() as Float32Array),
    ),
    { ...metadata, [LAYOUT_KEY]: 'tfjs' },
  );
}

/** The data section of an encoded safetensors buffer (the tensors' bytes, after the header). */
function dataSection(buf: Uint8Array): Uint8Array {
  const headerLength = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  return buf.subarray(8 + headerLength);
}

/** Writes atomically, with the SHA-256 of the tensor data in the metadata (the layout of the data does not depend on the metadata). */
function writeChecked(file: string, tensors: Record<string, NamedTensor>, metadata: Record<string, string>): void {
  const checksum = sha256(dataSection(encodeSafetensors(tensors, metadata)));
  writeFileAtomic(file, encodeSafetensors(tensors, { ...metadata, [DATA_CHECKSUM_KEY]: checksum }));
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
  const bytes = fs.readFileSync(file);
  checkShippedFile(file, bytes);
  const { tensors, metadata } = decodeSafetensors(bytes, { source: file });
  checkDataChecksum(file, dataSection(bytes), metadata);
  requireTfjsLayout(metadata, Object.keys(tensors), file);
  const values: StateValues = new Map();
  for (const [name, t] of Object.entries(tensors)) values.set(name, { shape: t.shape, data: toFloat32(t) });
  return { values, metadata };
}
