import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../backend/tf';
import { NamedTensor, TensorInfo, readSafetensorsHeader, toFloat32 } from '../../io/safetensors';
import { permuteAxes } from '../../io/torch-layout';
import { IFUNetConfig } from './config';
import { expectedParameters } from './architecture';
import { ForwardShape, MemoryEstimate, checkFitsBackend, estimateIFMemory } from './memory';

/**
 * Loads diffusers-format UNet weights (safetensors, one file or shards listed by an index JSON;
 * float32, float16 or bfloat16) into float32 tensors in TF layouts: conv weights OIHW -> HWIO,
 * linear weights [out, in] -> [in, out]. Every tensor the config implies must be present with
 * its exact shape, and the files must hold nothing else.
 */

/** The UNet's tensors by reference (diffusers) name, in TF layouts. */
export class IFWeights {
  constructor(private readonly tensors: Map<string, tf.Tensor>) {}

  get<T extends tf.Tensor>(name: string): T {
    const t = this.tensors.get(name);
    if (t === undefined) throw new Error(`IF UNet weight "${name}" is not loaded; the weights do not match the config (load them with loadIFWeights).`);
    return t as T;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

const WEIGHTS_NAME = 'diffusion_pytorch_model';

/** Where one stored tensor lies. */
interface StoredTensor {
  file: string;
  dataStart: number;
  info: TensorInfo;
}

/**
 * The weight files of a unet folder: `diffusion_pytorch_model[.<variant>].safetensors`, or the
 * shards listed in `...safetensors.index.json`. `source` may also be one of those files itself.
 * Without a variant the plain name is preferred, then the fp16 variant (as HF IF repos ship it).
 */
export function findWeightFiles(source: string, variant?: string): string {
  if (fs.existsSync(source) && fs.statSync(source).isFile()) return source;
  if (!fs.existsSync(source)) {
    throw new Error(
      `IF weights: ${source} does not exist. Give the unet/ folder of a diffusers DeepFloyd IF model (e.g. a Hugging Face snapshot of DeepFloyd/IF-I-M-v1.0) or a .safetensors file.`,
    );
  }
  const variants = variant !== undefined ? [`.${variant}`] : ['', '.fp16'];
  const tried: string[] = [];
  for (const v of variants) {
    for (const name of [`${WEIGHTS_NAME}${v}.safetensors`, `${WEIGHTS_NAME}${v}.safetensors.index.json`]) {
      const file = path.join(source, name);
      tried.push(name);
      if (fs.existsSync(file)) return file;
    }
  }
  const bin = fs.readdirSync(source).filter((f) => f.endsWith('.bin'));
  const hint = bin.length > 0 ? ` The folder has PyTorch .bin weights (${bin.join(', ')}); convert them to safetensors first (see docs/deepfloyd-if.md).` : '';
  throw new Error(`IF weights: ${source} has none of ${tried.join(', ')}.${hint} Download the safetensors weights of the unet.`);
}

function readIndex(indexFile: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (err) {
    throw new Error(`IF weights: cannot read the shard index ${indexFile} (${(err as Error).message}). Download it again.`, { cause: err });
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new Error(`IF weights: ${indexFile} has no "weight_map" object (tensor name -> shard file). Download it again.`);
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string') throw new Error(`IF weights: ${indexFile} maps "${name}" to ${JSON.stringify(shard)}, not a file name. Download it again.`);
    out.set(name, shard);
  }
  return out;
}

/** Every tensor stored in the file or shards, without reading any tensor data. */
export function indexStoredTensors(weightsFile: string): Map<string, StoredTensor> {
  const stored = new Map<string, StoredTensor>();
  if (weightsFile.endsWith('.index.json')) {
    const index = readIndex(weightsFile);
    const dir = path.dirname(weightsFile);
    const headers = new Map<string, ReturnType<typeof readSafetensorsHeader>>();
    for (const [name, shard] of index) {
      const file = path.join(dir, shard);
      if (!headers.has(file)) {
        if (!fs.existsSync(file)) {
          throw new Error(`IF weights: shard ${shard} (listed in ${path.basename(weightsFile)} for "${name}") is missing from ${dir}. Download every shard.`);
        }
        headers.set(file, readSafetensorsHeader(file));
      }
      const header = headers.get(file)!;
      const info = header.tensors[name];
      if (info === undefined) {
        throw new Error(
          `IF weights: ${path.basename(weightsFile)} says "${name}" is in ${shard}, but that shard does not hold it. The index and shards do not match; download them again.`,
        );
      }
      stored.set(name, { file, dataStart: header.dataStart, info });
    }
  } else {
    const header = readSafetensorsHeader(weightsFile);
    for (const [name, info] of Object.entries(header.tensors)) stored.set(name, { file: weightsFile, dataStart: header.dataStart, info });
  }
  return stored;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks names and shapes against the config; throws naming the first problems. */
function checkAgainstConfig(stored: Map<string, StoredTensor>, expected: Map<string, number[]>, source: string): void {
  const missing = [...expected.keys()].filter((n) => !stored.has(n));
  if (missing.length > 0) {
    const list = missing
      .slice(0, 5)
      .map((n) => `"${n}" [${expected.get(n)!.join(', ')}]`)
      .join(', ');
    throw new Error(
      `IF weights ${source}: missing tensor ${list}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}. ` +
        'The weights do not match unet/config.json; use the config.json that came with these weights.',
    );
  }
  for (const [name, shape] of expected) {
    const { info } = stored.get(name)!;
    if (!sameShape(info.shape, shape)) {
      throw new Error(
        `IF weights ${source}: tensor "${name}" has shape [${info.shape.join(', ')}] but the config needs [${shape.join(', ')}]. ` +
          'The weights do not match unet/config.json; use the config.json that came with these weights.',
      );
    }
    if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') {
      throw new Error(`IF weights ${source}: tensor "${name}" is ${info.dtype}; the loader reads F32, F16 and BF16. Save the weights in one of those.`);
    }
  }
  const extra = [...stored.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) {
    throw new Error(
      `IF weights ${source}: ${extra.length} tensor(s) the config does not use, e.g. "${extra.slice(0, 3).join('", "')}". ` +
        'The weights belong to a different architecture than unet/config.json describes (or to another model part); use the matching config and the unet/ weights.',
    );
  }
}

function readStored(t: StoredTensor): NamedTensor {
  const [begin, end] = t.info.dataOffsets;
  const bytes = Buffer.alloc(end - begin);
  const fd = fs.openSync(t.file, 'r');
  try {
    fs.readSync(fd, bytes, 0, bytes.length, t.dataStart + begin);
  } finally {
    fs.closeSync(fd);
  }
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const data = t.info.dtype === 'F32' ? new Float32Array(ab) : new Uint16Array(ab);
  return { dtype: t.info.dtype, shape: t.info.shape, data };
}

/** The tensor in TF layout: 4-D conv weights [out, in, kh, kw] to HWIO, 2-D `.weight`s to [in, out], the rest as is. */
function toTfLayout(name: string, data: Float32Array, shape: number[]): tf.Tensor {
  const perm = shape.length === 4 ? [2, 3, 1, 0] : shape.length === 2 && name.endsWith('.weight') ? [1, 0] : null;
  if (!perm) return tf.tensor(data, shape);
  const t = permuteAxes(data, shape, perm);
  return tf.tensor(t.data, t.shape);
}

export interface LoadWeightsOptions {
  /** Weight-file variant, e.g. 'fp16' for diffusion_pytorch_model.fp16.safetensors. */
  variant?: string;
  /** The forward shape used for the memory estimate (default: batch 2, the config's sample size, 77 tokens). */
  forward?: Partial<ForwardShape>;
  /** Refuse when the estimate exceeds this many bytes (default: 4 GiB on wasm, no check elsewhere). */
  memoryLimitBytes?: number;
}

export interface LoadedWeights {
  weights: IFWeights;
  memory: MemoryEstimate;
  /** The file that was read (a .safetensors file or a shard index). */
  file: string;
}

/**
 * Loads and checks the weights for `config` from a unet folder or weights file. The memory check
 * runs before any tensor data is read.
 */
export function loadIFWeights(source: string, config: IFUNetConfig, opts: LoadWeightsOptions = {}): LoadedWeights {
  const file = findWeightFiles(source, opts.variant);
  const stored = indexStoredTensors(file);
  const expected = expectedParameters(config);
  checkAgainstConfig(stored, expected, file);
  const memory = estimateIFMemory(config, {
    batch: opts.forward?.batch ?? 2,
    imageSize: opts.forward?.imageSize ?? config.sampleSize,
    tokens: opts.forward?.tokens ?? 77,
  });
  checkFitsBackend(memory, tf.getBackend(), opts.memoryLimitBytes);

  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [name, shape] of expected) {
      const data = toFloat32(readStored(stored.get(name)!));
      tensors.set(name, toTfLayout(name, data, shape));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { weights: new IFWeights(tensors), memory, file };
}
