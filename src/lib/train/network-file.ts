import { StateValues } from '../checkpoint';
import { decodeSafetensors, encodeSafetensors, float32ToF16Bits, NamedTensor, toFloat32 } from '../io/safetensors';
import { NetworkKind, TrainConfig } from './config';
import { createNetwork, TrainableNet } from './networks';

/**
 * A trained network in one self-contained safetensors file: its weights (and BatchNorm
 * statistics) plus its TrainConfig as JSON metadata, which is all createNetwork needs to rebuild
 * it. The shipped colour model is stored so, and so are the models the site's live demos fetch
 * (F16 there, half the bytes). Decoding works on bytes, so the same code loads a file from disk
 * in Node and a fetched file in a browser.
 */

/** The metadata value that marks such a file. */
export const NETWORK_FILE_FORMAT = 'diffusion-ts cascade';

export interface NetworkFileOptions {
  /** 'F16' rounds every value to half precision (for weights that are only read). Default 'F32'. */
  dtype?: 'F32' | 'F16';
  /** More string metadata to store beside the config. */
  metadata?: Record<string, string>;
}

/** Encodes a network and its config (reads the values back from the backend). */
export async function encodeNetworkFile(net: TrainableNet, config: TrainConfig, opts: NetworkFileOptions = {}): Promise<Uint8Array> {
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, v] of net.stateEntries()) {
    const data = (await v.data()) as Float32Array;
    tensors[name] = opts.dtype === 'F16'
      ? { dtype: 'F16', shape: [...v.shape], data: float32ToF16Bits(data) }
      : { dtype: 'F32', shape: [...v.shape], data };
  }
  return encodeSafetensors(tensors, { ...opts.metadata, format: NETWORK_FILE_FORMAT, config: JSON.stringify(config) });
}

/** Reads the config and values of a network file, without building the network. */
export function decodeNetworkFile(bytes: Uint8Array, source: string): { config: TrainConfig; values: StateValues; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, { source });
  if (!metadata.config) {
    throw new Error(`${source} has no "config" metadata: it is not a network file of this project (write one with encodeNetworkFile).`);
  }
  let config: TrainConfig;
  try {
    config = JSON.parse(metadata.config) as TrainConfig;
  } catch (err) {
    throw new Error(`${source}: its "config" metadata is not valid JSON (${(err as Error).message}).`);
  }
  const values: StateValues = new Map();
  for (const [name, t] of Object.entries(tensors)) values.set(name, { shape: t.shape, data: toFloat32(t) });
  return { config, values, metadata };
}

/** Builds the network a file holds and loads its weights; `kind` checks what it must be. */
export function readNetworkFile(bytes: Uint8Array, source: string, kind?: NetworkKind): { net: TrainableNet; config: TrainConfig; metadata: Record<string, string> } {
  const { config, values, metadata } = decodeNetworkFile(bytes, source);
  if (kind !== undefined && config.kind !== kind) throw new Error(`${source} holds a ${config.kind} network, expected ${kind}.`);
  const net = createNetwork(config);
  try {
    net.loadState(values, source);
  } catch (err) {
    net.dispose();
    throw err;
  }
  return { net, config, metadata };
}

/**
 * The same network file with every F32 tensor rounded to F16 (half the bytes; for weights that
 * are only read, such as the site's live demos). Works on the file alone, without a backend.
 */
export function halfPrecisionCopy(bytes: Uint8Array, source: string): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes, { source });
  const out: Record<string, NamedTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    out[name] = t.dtype === 'F32' ? { dtype: 'F16', shape: t.shape, data: float32ToF16Bits(t.data as Float32Array) } : t;
  }
  return encodeSafetensors(out, metadata);
}
