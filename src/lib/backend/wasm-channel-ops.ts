// Faster wasm kernels for operations the UNet runs on every step: Identity (without a copy), and
// three that work along the channel axis (the last, NHWC), when the channel counts are multiples
// of 4:
//
//   Concat along the last axis    the skip connections (forward)
//   SplitV along the last axis    their gradient
//   Sum over all axes but the last  the gradient of every conv bias
//
// tfjs-backend-wasm 4.22 copies a last-axis concat or split row by row (many times a plain copy of
// the tensor; docs/performance.md section 6) and sums over leading axes by transposing first.
// Here they are one pass of WebAssembly SIMD (simd/channel-kernels.wat). Any
// other case (another axis, dtype or channel count) goes to the backend's own kernel, kept when
// these are registered.
import { tf } from './tf';
import { replaceWasmKernel } from './wasm-replace-kernel';
import { simdChannelSums, simdConcatChannels, simdKernelsActive, simdSplitChannels } from './simd/channel-kernels';

/** The members of the wasm backend that kernels writing into its heap use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap };
type KernelResult = tf.TensorInfo | tf.TensorInfo[];

/** The backend's own kernels, for the cases these do not take. */
const originals = new Map<string, tf.KernelFunc>();

function original(name: string, args: KernelArgs): KernelResult {
  const kernel = originals.get(name);
  if (!kernel) throw new Error(`wasm ${name}: the backend's own kernel is missing (tfjs-backend-wasm not loaded?).`);
  return kernel(args as Parameters<tf.KernelFunc>[0]);
}

function lastAxis(axis: unknown, rank: number): boolean {
  const a = Array.isArray(axis) ? axis : [axis];
  if (a.length !== 1 || typeof a[0] !== 'number') return false;
  return (a[0] < 0 ? a[0] + rank : a[0]) === rank - 1;
}

function concat(args: KernelArgs): KernelResult {
  const inputs = Object.values(args.inputs) as tf.TensorInfo[];
  const rank = inputs[0]?.shape.length ?? 0;
  const lead = inputs[0]?.shape.slice(0, -1).join(',');
  const fits =
    simdKernelsActive() &&
    inputs.length > 1 &&
    rank > 0 &&
    lastAxis(args.attrs?.axis, rank) &&
    inputs.every((t) => t.dtype === 'float32' && t.shape.length === rank && t.shape.slice(0, -1).join(',') === lead);
  if (!fits) return original(tf.Concat, args);
  const backend = args.backend as WasmBackendLike;
  const channels = inputs.map((t) => t.shape[rank - 1]);
  const out = backend.makeOutput([...inputs[0].shape.slice(0, -1), channels.reduce((a, b) => a + b, 0)], 'float32');
  // Views after every allocation (a heap growth detaches earlier views).
  const done = simdConcatChannels(
    inputs.map((t) => backend.typedArrayFromHeap(t)),
    channels,
    backend.typedArrayFromHeap(out),
  );
  if (done) return out;
  (args.backend as tf.KernelBackend).disposeData(out.dataId);
  return original(tf.Concat, args);
}

function splitV(args: KernelArgs): KernelResult {
  const x = args.inputs.x;
  const rank = x?.shape.length ?? 0;
  if (!x || x.dtype !== 'float32' || rank === 0 || !simdKernelsActive() || !lastAxis(args.attrs?.axis, rank)) {
    return original(tf.SplitV, args);
  }
  const c = x.shape[rank - 1];
  const split = args.attrs?.numOrSizeSplits as number | number[];
  const sizes = typeof split === 'number' ? new Array<number>(split).fill(c / split) : [...split];
  const unknown = sizes.indexOf(-1);
  if (unknown >= 0) sizes[unknown] = c - sizes.reduce((a, b) => a + (b === -1 ? 0 : b), 0);
  if (sizes.some((s) => !Number.isInteger(s) || s % 4 !== 0 || s <= 0) || sizes.reduce((a, b) => a + b, 0) !== c) {
    return original(tf.SplitV, args);
  }
  const backend = args.backend as WasmBackendLike;
  const outs = sizes.map((s) => backend.makeOutput([...x.shape.slice(0, -1), s], 'float32'));
  if (
    simdSplitChannels(
      backend.typedArrayFromHeap(x),
      sizes,
      outs.map((o) => backend.typedArrayFromHeap(o)),
    )
  )
    return outs;
  for (const o of outs) (args.backend as tf.KernelBackend).disposeData(o.dataId);
  return original(tf.SplitV, args);
}

function sum(args: KernelArgs): KernelResult {
  const x = args.inputs.x;
  const rank = x?.shape.length ?? 0;
  if (!x || x.dtype !== 'float32' || rank < 2 || x.shape.some((d) => d === 0) || !simdKernelsActive()) return original(tf.Sum, args);
  const axes = tf.util.parseAxisParam(args.attrs?.axis as number | number[], x.shape).sort((a, b) => a - b);
  if (axes.length !== rank - 1 || axes.some((a, i) => a !== i)) return original(tf.Sum, args);
  const c = x.shape[rank - 1];
  const backend = args.backend as WasmBackendLike;
  const sums = simdChannelSums(backend.typedArrayFromHeap(x), c);
  if (!sums) return original(tf.Sum, args);
  const shape = args.attrs?.keepDims ? [...new Array<number>(rank - 1).fill(1), c] : [c];
  const out = backend.makeOutput(shape, 'float32');
  backend.typedArrayFromHeap(out).set(sums);
  return out;
}

/**
 * Identity without a copy: the output shares the input's memory (the backend counts references),
 * as Reshape does here and Identity does on the cpu backend. Tensors are never written in place,
 * so sharing is safe. wasm's own Identity copies the data, and autodiff runs ~200 of them per
 * UNet step (the gradients passed through; docs/performance.md section 7).
 */
function identity(args: KernelArgs): KernelResult {
  const x = args.inputs.x;
  if (!x || x.dtype === 'string') return original(tf.Identity, args);
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const KERNELS: Array<[string, (args: KernelArgs) => KernelResult]> = [
  [tf.Identity, identity],
  [tf.Concat, concat],
  [tf.SplitV, splitV],
  [tf.Sum, sum],
];

/** Puts these kernels in front of the wasm backend's own. Safe to call more than once. */
export function registerWasmChannelOps(): void {
  for (const [name, kernelFunc] of KERNELS) {
    const own = replaceWasmKernel(name, kernelFunc as tf.KernelFunc);
    if (own !== undefined) originals.set(name, own);
  }
}
