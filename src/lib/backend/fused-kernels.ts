// Fused element-wise kernels for the UNet's GELU and BatchNorm and for the Adam update, written
// in JavaScript over the backend's own memory (the wasm heap, or the cpu backend's typed arrays).
//
// Why: a training step spends a third to a half of its time in element-wise kernels. GELU built
// from tf ops is five kernels forward and about eight backward (Erf, Exp, Multiply, Add, ...),
// and BatchNorm from tf.moments another dozen with broadcasting reductions; each one is a full
// pass over a [N, H, W, C] tensor. Here each of them is one or two passes:
//
//   DiffusionGelu            y  = x * Phi(x)                                    1 pass
//   DiffusionGeluGrad        dx = dy * (Phi(x) + x * phi(x))                    1 pass
//   DiffusionChannelMoments  mean, variance over all axes but the last (C)      1 pass
//   DiffusionChannelAffine   y  = x * scale[c] + shift[c]                       1 pass
//   DiffusionBatchNormGrad   dx, dgamma, dbeta of training-mode BatchNorm       2 passes
//   DiffusionAdamUpdate      new parameter, m and v of one Adam step           1 pass
//
// Adam from tf ops is ten kernels (and ten temporaries) per parameter tensor; a UNet has ~100
// parameter tensors, so the per-kernel overhead, not the arithmetic, dominated the update.
//
// The loops run in WebAssembly SIMD where they can (simd/channel-kernels.wat; docs/performance.md
// section 6 has the gains); the JavaScript here stays for runtimes without SIMD, BatchNorm channel
// counts that are not a multiple of 4, and DIFFUSION_SIMD_KERNELS=0. Phi is the standard normal CDF and phi its
// density. The SIMD GELU computes Phi from erfc (Abramowitz and Stegun 7.1.26) and one exp per
// element (|error| < 5e-7); the JavaScript one from tables on [-8, 8] with 256 entries per unit,
// computed once in float64, and linear interpolation (|error| < 1e-6). Beyond the tables Phi is
// 0 or 1 to float64 precision (Phi(-8) = 6e-16).
// Per-channel sums are accumulated in float64.
//
// These kernels have no registered gradients: fused-ops.ts wraps them in tf.customGrad.
import { tf } from './tf';
import { simdBatchNormGrad, simdChannelAffine, simdChannelShiftedSums, simdGelu } from './simd/channel-kernels';
import { runtimeOptions } from '../runtime-options';

export const GELU = 'DiffusionGelu';
export const GELU_GRAD = 'DiffusionGeluGrad';
export const CHANNEL_MOMENTS = 'DiffusionChannelMoments';
export const CHANNEL_AFFINE = 'DiffusionChannelAffine';
export const BATCH_NORM_GRAD = 'DiffusionBatchNormGrad';
export const ADAM_UPDATE = 'DiffusionAdamUpdate';

/** Backends the kernels are registered for. */
export const FUSED_BACKENDS = ['wasm', 'cpu'] as const;
type FusedBackend = (typeof FUSED_BACKENDS)[number];

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
  data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
}

/**
 * Reads and makes float32 tensors of one backend. On wasm, making an output can grow the heap,
 * which detaches every view taken before; so make all outputs first, then take views.
 */
class Memory {
  constructor(
    private readonly kind: FusedBackend,
    private readonly backend: object,
  ) {}

  make(shape: number[]): tf.TensorInfo {
    if (this.kind === 'wasm') return (this.backend as WasmBackendLike).makeOutput(shape, 'float32');
    const size = shape.reduce((a, b) => a * b, 1);
    return (this.backend as CpuBackendLike).makeTensorInfo(shape, 'float32', new Float32Array(size));
  }

  view(t: tf.TensorInfo): Float32Array {
    if (t.dtype !== 'float32') throw new Error(`Fused kernels take float32 tensors, got ${t.dtype}.`);
    if (this.kind === 'wasm') return (this.backend as WasmBackendLike).typedArrayFromHeap(t);
    const values = (this.backend as CpuBackendLike).data.get(t.dataId)?.values;
    if (!(values instanceof Float32Array)) throw new Error('Fused kernels: the cpu backend holds no float32 values for a tensor.');
    return values;
  }
}

// ---------------------------------------------------------------------------------------------
// Scalar functions

/** erfc(z) in float64 to ~1e-15 relative: the Taylor series of erf below 3, a continued fraction above. */
function erfcAccurate(z: number): number {
  if (z < 0) return 2 - erfcAccurate(-z);
  if (z < 3) {
    // erf(z) = 2/sqrt(pi) * sum_k (-1)^k z^(2k+1) / (k! (2k+1))
    let term = z;
    let sum = z;
    for (let k = 1; Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= (-z * z) / k;
      sum += term / (2 * k + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(-z^2) / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...))))
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (z + f);
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
}

const TABLE_LIMIT = 8;
const TABLE_STEPS = 256; // entries per unit of x
const TABLE_SIZE = 2 * TABLE_LIMIT * TABLE_STEPS + 2;
/** Phi and phi at x = i / TABLE_STEPS - TABLE_LIMIT, built on first use. */
let normalTables: { cdf: Float64Array; pdf: Float64Array } | null = null;

function tables(): { cdf: Float64Array; pdf: Float64Array } {
  if (!normalTables) {
    const cdf = new Float64Array(TABLE_SIZE);
    const pdf = new Float64Array(TABLE_SIZE);
    for (let i = 0; i < TABLE_SIZE; i++) {
      const x = i / TABLE_STEPS - TABLE_LIMIT;
      cdf[i] = 0.5 * erfcAccurate(-x * Math.SQRT1_2);
      pdf[i] = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }
    normalTables = { cdf, pdf };
  }
  return normalTables;
}

/** Exposed for tests: Phi(x) and phi(x) as the kernels compute them. */
export function normalCdfPdf(x: number): [number, number] {
  const { cdf, pdf } = tables();
  const p = (x + TABLE_LIMIT) * TABLE_STEPS;
  if (p <= 0) return [0, 0];
  if (p >= TABLE_SIZE - 2) return [1, 0];
  const k = p | 0;
  const f = p - k;
  return [cdf[k] + f * (cdf[k + 1] - cdf[k]), pdf[k] + f * (pdf[k + 1] - pdf[k])];
}

function gelu(x: Float32Array, y: Float32Array): void {
  const { cdf } = tables();
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const p = (v + TABLE_LIMIT) * TABLE_STEPS;
    if (p <= 0) y[i] = 0;
    else if (p >= TABLE_SIZE - 2) y[i] = v;
    else {
      // (NaN falls through to here and stays NaN.)
      const k = p | 0;
      const c = cdf[k];
      y[i] = v * (c + (p - k) * (cdf[k + 1] - c));
    }
  }
}

function geluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const { cdf, pdf } = tables();
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const p = (v + TABLE_LIMIT) * TABLE_STEPS;
    if (p <= 0) dx[i] = 0;
    else if (p >= TABLE_SIZE - 2) dx[i] = dy[i];
    else {
      const k = p | 0;
      const f = p - k;
      const c = cdf[k];
      const d = pdf[k];
      dx[i] = dy[i] * (c + f * (cdf[k + 1] - c) + v * (d + f * (pdf[k + 1] - d)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Kernels

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap };

function input(args: KernelArgs, name: string, kernel: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`${kernel} needs input ${name}.`);
  return t;
}

function channels(shape: number[], kernel: string): number {
  if (shape.length < 1 || shape[shape.length - 1] < 1) throw new Error(`${kernel}: bad shape [${shape}].`);
  return shape[shape.length - 1];
}

function geluKernel(kind: FusedBackend) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = input(args, 'x', GELU);
    const mem = new Memory(kind, args.backend);
    const y = mem.make(x.shape);
    if (!simdGelu(mem.view(x), null, mem.view(y))) gelu(mem.view(x), mem.view(y));
    return y;
  };
}

function geluGradKernel(kind: FusedBackend) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = input(args, 'x', GELU_GRAD);
    const dy = input(args, 'dy', GELU_GRAD);
    const mem = new Memory(kind, args.backend);
    const dx = mem.make(x.shape);
    if (!simdGelu(mem.view(x), mem.view(dy), mem.view(dx))) geluGrad(mem.view(x), mem.view(dy), mem.view(dx));
    return dx;
  };
}

function shiftedSums(x: Float32Array, c: number): { sum: Float64Array; sumSq: Float64Array } {
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let i = 0; i < x.length;) {
    for (let k = 0; k < c; k++, i++) {
      const d = x[i] - x[k];
      sum[k] += d;
      sumSq[k] += d * d;
    }
  }
  return { sum, sumSq };
}

/** Mean and biased variance per channel (last axis), as tf.moments over all other axes. */
function channelMomentsKernel(kind: FusedBackend) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const xInfo = input(args, 'x', CHANNEL_MOMENTS);
    const c = channels(xInfo.shape, CHANNEL_MOMENTS);
    const mem = new Memory(kind, args.backend);
    const meanInfo = mem.make([c]);
    const varInfo = mem.make([c]);
    const x = mem.view(xInfo);
    const rows = x.length / c;
    // Sums of x - x[0, c] (a shift by one sample keeps E[d^2] - E[d]^2 from cancelling).
    const { sum, sumSq } = simdChannelShiftedSums(x, c) ?? shiftedSums(x, c);
    const mean = mem.view(meanInfo);
    const variance = mem.view(varInfo);
    for (let k = 0; k < c; k++) {
      const m = sum[k] / rows;
      mean[k] = x[k] + m;
      variance[k] = Math.max(0, sumSq[k] / rows - m * m);
    }
    return [meanInfo, varInfo];
  };
}

function channelAffineKernel(kind: FusedBackend) {
  return (args: KernelArgs): tf.TensorInfo => {
    const xInfo = input(args, 'x', CHANNEL_AFFINE);
    const c = channels(xInfo.shape, CHANNEL_AFFINE);
    const mem = new Memory(kind, args.backend);
    const yInfo = mem.make(xInfo.shape);
    const x = mem.view(xInfo);
    const y = mem.view(yInfo);
    const scale = Float64Array.from(mem.view(input(args, 'scale', CHANNEL_AFFINE)));
    const shift = Float64Array.from(mem.view(input(args, 'shift', CHANNEL_AFFINE)));
    if (scale.length !== c || shift.length !== c) throw new Error(`${CHANNEL_AFFINE}: scale and shift need ${c} values.`);
    if (simdChannelAffine(x, scale, shift, c, y)) return yInfo;
    for (let i = 0; i < x.length;) {
      for (let k = 0; k < c; k++, i++) y[i] = x[i] * scale[k] + shift[k];
    }
    return yInfo;
  };
}

/**
 * Gradient of y = gamma * (x - mean) * invStd + beta with batch statistics (mean, invStd of x
 * itself), the standard closed form over M = N*H*W values per channel:
 *   dbeta = sum dy,  dgamma = sum dy * xhat,
 *   dx = gamma * invStd * (dy - dbeta / M - xhat * dgamma / M).
 */
function batchNormGradKernel(kind: FusedBackend) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const xInfo = input(args, 'x', BATCH_NORM_GRAD);
    const c = channels(xInfo.shape, BATCH_NORM_GRAD);
    const mem = new Memory(kind, args.backend);
    const dxInfo = mem.make(xInfo.shape);
    const dgammaInfo = mem.make([c]);
    const dbetaInfo = mem.make([c]);
    const x = mem.view(xInfo);
    const dy = mem.view(input(args, 'dy', BATCH_NORM_GRAD));
    const mean = Float64Array.from(mem.view(input(args, 'mean', BATCH_NORM_GRAD)));
    const invStd = Float64Array.from(mem.view(input(args, 'invStd', BATCH_NORM_GRAD)));
    const gamma = Float64Array.from(mem.view(input(args, 'gamma', BATCH_NORM_GRAD)));
    const rows = x.length / c;
    const dgamma = mem.view(dgammaInfo);
    const dbeta = mem.view(dbetaInfo);
    const dx = mem.view(dxInfo);
    // dx = a * dy + b * x + d per channel, from the two sums.
    const coefficients = (sumDy: Float64Array, sumDyX: Float64Array) => {
      const a = new Float64Array(c);
      const b = new Float64Array(c);
      const d = new Float64Array(c);
      for (let k = 0; k < c; k++) {
        const dg = sumDyX[k] * invStd[k];
        dgamma[k] = dg;
        dbeta[k] = sumDy[k];
        a[k] = gamma[k] * invStd[k];
        b[k] = (-a[k] * invStd[k] * dg) / rows;
        d[k] = (-a[k] * sumDy[k]) / rows - b[k] * mean[k];
      }
      return { a, b, d };
    };
    if (simdBatchNormGrad(x, dy, mean, c, coefficients, dx)) return [dxInfo, dgammaInfo, dbetaInfo];
    const sumDy = new Float64Array(c);
    const sumDyX = new Float64Array(c); // sum dy * (x - mean)
    for (let r = 0, i = 0; r < rows; r++) {
      for (let k = 0; k < c; k++, i++) {
        const g = dy[i];
        sumDy[k] += g;
        sumDyX[k] += g * (x[i] - mean[k]);
      }
    }
    const { a, b, d } = coefficients(sumDy, sumDyX);
    for (let i = 0; i < x.length;) {
      for (let k = 0; k < c; k++, i++) dx[i] = a[k] * dy[i] + b[k] * x[i] + d[k];
    }
    return [dxInfo, dgammaInfo, dbetaInfo];
  };
}

/**
 * One Adam step (PyTorch's rule) for one parameter tensor, in float64 per element:
 *   m' = beta1 m + (1 - beta1) g,   v' = beta2 v + (1 - beta2) g^2,
 *   p' = p - stepSize * m' / (sqrt(v' / biasCorrection2) + eps).
 * Inputs param, m, v, grad (one shape); outputs [p', m', v'].
 */
function adamUpdateKernel(kind: FusedBackend) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const names = ['param', 'm', 'v', 'grad'] as const;
    const infos = names.map((n) => input(args, n, ADAM_UPDATE));
    const size = infos[0].shape.reduce((a, b) => a * b, 1);
    for (const [i, t] of infos.entries()) {
      if (t.shape.reduce((a, b) => a * b, 1) !== size) {
        throw new Error(`${ADAM_UPDATE}: ${names[i]} has shape [${t.shape}], expected [${infos[0].shape}].`);
      }
    }
    const attr = (name: string): number => {
      const value = args.attrs?.[name];
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${ADAM_UPDATE} needs a finite number attribute ${name}.`);
      return value;
    };
    const b1 = attr('beta1');
    const b2 = attr('beta2');
    const eps = attr('eps');
    const stepSize = attr('stepSize');
    const c2 = attr('biasCorrection2');
    const mem = new Memory(kind, args.backend);
    const outInfos = [mem.make(infos[0].shape), mem.make(infos[0].shape), mem.make(infos[0].shape)];
    const [p, m, v, g] = infos.map((t) => mem.view(t));
    const [pOut, mOut, vOut] = outInfos.map((t) => mem.view(t));
    for (let i = 0; i < size; i++) {
      const gi = g[i];
      const mi = b1 * m[i] + (1 - b1) * gi;
      const vi = b2 * v[i] + (1 - b2) * gi * gi;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = p[i] - (stepSize * mi) / (Math.sqrt(vi / c2) + eps);
    }
    return outInfos;
  };
}

const FACTORIES: Record<string, (kind: FusedBackend) => tf.KernelFunc> = {
  [GELU]: geluKernel as (kind: FusedBackend) => tf.KernelFunc,
  [GELU_GRAD]: geluGradKernel as (kind: FusedBackend) => tf.KernelFunc,
  [CHANNEL_MOMENTS]: channelMomentsKernel as (kind: FusedBackend) => tf.KernelFunc,
  [CHANNEL_AFFINE]: channelAffineKernel as (kind: FusedBackend) => tf.KernelFunc,
  [BATCH_NORM_GRAD]: batchNormGradKernel as (kind: FusedBackend) => tf.KernelFunc,
  [ADAM_UPDATE]: adamUpdateKernel as (kind: FusedBackend) => tf.KernelFunc,
};

/** Registers the fused kernels for the wasm and cpu backends. Safe to call more than once. */
export function registerFusedKernels(): void {
  for (const backendName of FUSED_BACKENDS) {
    for (const [kernelName, factory] of Object.entries(FACTORIES)) {
      if (tf.getKernel(kernelName, backendName) === undefined) {
        tf.registerKernel({ kernelName, backendName, kernelFunc: factory(backendName) });
      }
    }
  }
}

/** Whether the active backend has the fused kernels (registered and not switched off). */
export function fusedKernelsActive(): boolean {
  if (!runtimeOptions().fusedKernels) return false;
  const name = tf.getBackend();
  return (FUSED_BACKENDS as readonly string[]).includes(name) && tf.getKernel(GELU, name) !== undefined;
}
