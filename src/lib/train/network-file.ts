import { StateValues } from '../checkpoint';
import { decodeSafetensors, encodeSafetensors, float32ToF16Bits, NamedTensor, toFloat32 } from '../io/safetensors';
import { requireTfjsLayout } from '../io/torch-layout';
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
    tensors[name] = opts.dtype === 'F16' ? f16Tensor([...v.shape], data) : { dtype: 'F32', shape: [...v.shape], data };
  }
  return encodeSafetensors(tensors, { ...opts.metadata, format: NETWORK_FILE_FORMAT, config: JSON.stringify(config) });
}

/** Reads the config and values of a network file, without building the network. */
export function decodeNetworkFile(bytes: Uint8Array, source: string): { config: TrainConfig; values: StateValues; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, { source });
  requireTfjsLayout(metadata, Object.keys(tensors), source);
  if (!metadata.config) {
    throw new Error(`${source} has no "config" metadata: it is not a network file of this project (write one with encodeNetworkFile).`);
  }
  let config: TrainConfig;
  try {
    config = JSON.parse(metadata.config) as TrainConfig;
  } catch (err) {
    throw new Error(`${source}: its "config" metadata is not valid JSON (${(err as Error).message}).`, { cause: err });
  }
  const int8 = metadata.int8 ? (JSON.parse(metadata.int8) as string[]) : [];
  const values: StateValues = new Map();
  for (const [name, t] of Object.entries(tensors)) {
    if (name.endsWith(SCALE_SUFFIX)) continue;
    values.set(name, { shape: t.shape, data: int8.includes(name) ? dequantize(t, tensors[name + SCALE_SUFFIX], source, name) : toFloat32(t) });
  }
  return { config, values, metadata };
}

/** Builds the network a file holds and loads its weights; `kind` checks what it must be. */
export function readNetworkFile(
  bytes: Uint8Array,
  source: string,
  kind?: NetworkKind,
): { net: TrainableNet; config: TrainConfig; metadata: Record<string, string> } {
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

function f16Tensor(shape: number[], data: Float32Array): NamedTensor {
  return { dtype: 'F16', shape, data: float32ToF16Bits(data) };
}

/** Per-channel scales of an int8 tensor are stored beside it under this suffix. */
const SCALE_SUFFIX = '.__int8_scale';

/**
 * The same network file, compact for weights that are only read (the site's live demos), built
 * from the file alone, without a backend: every F32 tensor of at least `int8MinValues` values
 * (and two or more axes) as int8 with one scale per channel of its last axis (the output channel
 * of conv and linear weights: w = q * scale, |error| <= scale / 2), every other F32 tensor as F16.
 * The Node tests load the very same file as the browser, so both run the same numbers.
 */
export function compactCopy(bytes: Uint8Array, source: string, int8MinValues: number): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes, { source });
  const out: Record<string, NamedTensor> = {};
  const quantized: string[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'F32') {
      out[name] = t;
    } else if (t.data.length >= int8MinValues && t.shape.length >= 2) {
      const { q, scales } = quantizeInt8(t.data as Float32Array, t.shape[t.shape.length - 1]);
      out[name] = { dtype: 'I8', shape: t.shape, data: q };
      out[name + SCALE_SUFFIX] = { dtype: 'F32', shape: [scales.length], data: scales };
      quantized.push(name);
    } else {
      out[name] = f16Tensor(t.shape, t.data as Float32Array);
    }
  }
  return encodeSafetensors(out, quantized.length > 0 ? { ...metadata, int8: JSON.stringify(quantized.sort()) } : metadata);
}

/** Every F32 tensor as F16: half the bytes. */
export function halfPrecisionCopy(bytes: Uint8Array, source: string): Uint8Array {
  return compactCopy(bytes, source, Infinity);
}

/** Large tensors as int8 with per-channel scales, the rest F16: about a quarter of the bytes. */
export function int8Copy(bytes: Uint8Array, source: string): Uint8Array {
  return compactCopy(bytes, source, 4096);
}

/** Symmetric int8 with one scale per channel of the last axis. */
function quantizeInt8(data: Float32Array, channels: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) scales[i % channels] = Math.max(scales[i % channels], Math.abs(data[i]));
  for (let c = 0; c < channels; c++) scales[c] = scales[c] > 0 ? scales[c] / 127 : 1;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(data[i] / scales[i % channels])));
  return { q, scales };
}

function dequantize(q: NamedTensor, scale: NamedTensor | undefined, source: string, name: string): Float32Array {
  const channels = q.shape[q.shape.length - 1];
  if (q.dtype !== 'I8' || !scale || scale.dtype !== 'F32' || scale.data.length !== channels) {
    throw new Error(`${source}: int8 tensor "${name}" lacks its ${channels} scales (or is not I8): the file is corrupt; build it again.`);
  }
  const data = q.data as Int8Array;
  const s = scale.data as Float32Array;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * s[i % channels];
  return out;
}
