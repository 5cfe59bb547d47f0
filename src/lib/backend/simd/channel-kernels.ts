// The BatchNorm and GELU loops of fused-kernels.ts, and the channel copies and sums of
// wasm-channel-ops.ts, in WebAssembly SIMD (channel-kernels.wat).
// Each call copies its inputs into the module's own memory, runs one loop and copies the result
// out: the copies cost ~0.1 ns per element against ~2-3 ns per element for the same loop in
// JavaScript. Every function returns false or null (and does nothing) where it does not apply:
// WebAssembly SIMD missing, a channel count that is not a multiple of 4, the module's memory
// unable to grow, or DIFFUSION_SIMD_KERNELS=0; the caller then runs its JavaScript loop.
import { CHANNEL_KERNELS_WASM } from './channel-kernels-wasm';
import { Layout, lazyInstance, SIMD_KERNELS_ENV_VAR, simdKernelsEnabled, type WasmMemory } from './module';

interface ChannelKernels {
  memory: WasmMemory;
  affine(x: number, y: number, scale: number, shift: number, rows: number, cb: number): void;
  moments(x: number, sum: number, sumSq: number, rows: number, cb: number): void;
  bn_grad_sums(x: number, dy: number, mean: number, sumDy: number, sumDyX: number, rows: number, cb: number): void;
  bn_grad_dx(x: number, dy: number, dx: number, a: number, b: number, d: number, rows: number, cb: number): void;
  gelu(x: number, dy: number, out: number, n4: number, grad: number): void;
  copy_rows(src: number, srcStride: number, dst: number, dstStride: number, bytes: number, rows: number): void;
  channel_sums(x: number, sum: number, rows: number, cb: number): void;
}

export { SIMD_KERNELS_ENV_VAR };

const load = lazyInstance<ChannelKernels>(CHANNEL_KERNELS_WASM);

/** Whether the SIMD loops run here (for channel counts that are multiples of 4). */
export function simdKernelsActive(): boolean {
  return simdKernelsEnabled() && load() !== null;
}

function usable(c: number): ChannelKernels | null {
  if (c % 4 !== 0 || c === 0 || !simdKernelsEnabled()) return null;
  return load();
}

/** y = x * scale[c] + shift[c] over rows of c channels; false if not applicable. */
export function simdChannelAffine(x: Float32Array, scale: ArrayLike<number>, shift: ArrayLike<number>, c: number, y: Float32Array): boolean {
  const k = usable(c);
  if (!k) return false;
  const mem = new Layout(k.memory);
  const px = mem.reserve(x.length * 4);
  const py = mem.reserve(x.length * 4);
  const ps = mem.reserve(c * 4);
  const pb = mem.reserve(c * 4);
  if (!mem.commit()) return false;
  mem.f32(px, x.length).set(x);
  mem.f32(ps, c).set(scale);
  mem.f32(pb, c).set(shift);
  k.affine(px, py, ps, pb, x.length / c, c * 4);
  y.set(mem.f32(py, x.length));
  return true;
}

/** Per channel, float64 sums of x - x[0, c] and of its square; null if not applicable. */
export function simdChannelShiftedSums(x: Float32Array, c: number): { sum: Float64Array; sumSq: Float64Array } | null {
  const k = usable(c);
  if (!k) return null;
  const mem = new Layout(k.memory);
  const px = mem.reserve(x.length * 4);
  const pSum = mem.reserve(c * 8);
  const pSumSq = mem.reserve(c * 8);
  if (!mem.commit()) return null;
  mem.f32(px, x.length).set(x);
  mem.f64(pSum, c).fill(0);
  mem.f64(pSumSq, c).fill(0);
  k.moments(px, pSum, pSumSq, x.length / c, c * 4);
  return { sum: mem.f64(pSum, c).slice(), sumSq: mem.f64(pSumSq, c).slice() };
}

/**
 * The BatchNorm gradient's two loops (see fused-kernels.ts): per-channel sums of dy and
 * dy * (x - mean), then, from the coefficients `finish` computes from them, dx = a dy + b x + d.
 * x and dy are copied in once for both. False if not applicable.
 */
export function simdBatchNormGrad(
  x: Float32Array,
  dy: Float32Array,
  mean: ArrayLike<number>,
  c: number,
  finish: (sumDy: Float64Array, sumDyX: Float64Array) => { a: ArrayLike<number>; b: ArrayLike<number>; d: ArrayLike<number> },
  dx: Float32Array,
): boolean {
  const k = usable(c);
  if (!k) return false;
  const mem = new Layout(k.memory);
  const px = mem.reserve(x.length * 4);
  const pdy = mem.reserve(x.length * 4);
  const pdx = mem.reserve(x.length * 4);
  const pMean = mem.reserve(c * 4);
  const pSumDy = mem.reserve(c * 8);
  const pSumDyX = mem.reserve(c * 8);
  const pa = mem.reserve(c * 4);
  const pb = mem.reserve(c * 4);
  const pd = mem.reserve(c * 4);
  if (!mem.commit()) return false;
  mem.f32(px, x.length).set(x);
  mem.f32(pdy, x.length).set(dy);
  mem.f32(pMean, c).set(mean);
  mem.f64(pSumDy, c).fill(0);
  mem.f64(pSumDyX, c).fill(0);
  const rows = x.length / c;
  k.bn_grad_sums(px, pdy, pMean, pSumDy, pSumDyX, rows, c * 4);
  const { a, b, d } = finish(mem.f64(pSumDy, c).slice(), mem.f64(pSumDyX, c).slice());
  mem.f32(pa, c).set(a);
  mem.f32(pb, c).set(b);
  mem.f32(pd, c).set(d);
  k.bn_grad_dx(px, pdy, pdx, pa, pb, pd, rows, c * 4);
  dx.set(mem.f32(pdx, x.length));
  return true;
}

/**
 * GELU, y = x Phi(x), or with `dy` its gradient dy (Phi(x) + x phi(x)), into `out`; false if
 * not applicable. Phi from erfc (Abramowitz and Stegun 7.1.26) and one exponential per element.
 */
export function simdGelu(x: Float32Array, dy: Float32Array | null, out: Float32Array): boolean {
  const k = usable(4);
  if (!k) return false;
  const n4 = Math.ceil(x.length / 4);
  const mem = new Layout(k.memory);
  const px = mem.reserve(n4 * 16);
  const pdy = mem.reserve(dy ? n4 * 16 : 0);
  const pOut = mem.reserve(n4 * 16);
  if (!mem.commit()) return false;
  // The last group's spare lanes compute on whatever is there and are not copied out.
  mem.f32(px, x.length).set(x);
  if (dy) mem.f32(pdy, dy.length).set(dy);
  k.gelu(px, pdy, pOut, n4, dy ? 1 : 0);
  out.set(mem.f32(pOut, x.length));
  return true;
}

/** All counts positive multiples of 4 (the SIMD loops move 4 channels at a time). */
function allQuads(channels: number[]): boolean {
  return channels.length > 0 && channels.every((c) => c > 0 && c % 4 === 0);
}

/**
 * Concatenates blocks [rows, channels[i]] (row-major) along the last axis into `out`
 * [rows, sum of channels]; false if not applicable.
 */
export function simdConcatChannels(parts: Float32Array[], channels: number[], out: Float32Array): boolean {
  const k = allQuads(channels) ? usable(4) : null;
  if (!k) return false;
  const total = channels.reduce((a, b) => a + b, 0);
  const rows = out.length / total;
  const mem = new Layout(k.memory);
  const at = parts.map((p) => mem.reserve(p.length * 4));
  const pOut = mem.reserve(out.length * 4);
  if (!mem.commit()) return false;
  let offset = 0;
  parts.forEach((p, i) => {
    mem.f32(at[i], p.length).set(p);
    k.copy_rows(at[i], channels[i] * 4, pOut + offset * 4, total * 4, channels[i] * 4, rows);
    offset += channels[i];
  });
  out.set(mem.f32(pOut, out.length));
  return true;
}

/** Splits x [rows, sum of channels] along the last axis into `outs` [rows, channels[i]]; false if not applicable. */
export function simdSplitChannels(x: Float32Array, channels: number[], outs: Float32Array[]): boolean {
  const k = allQuads(channels) ? usable(4) : null;
  if (!k) return false;
  const total = channels.reduce((a, b) => a + b, 0);
  const rows = x.length / total;
  const mem = new Layout(k.memory);
  const px = mem.reserve(x.length * 4);
  const at = outs.map((o) => mem.reserve(o.length * 4));
  if (!mem.commit()) return false;
  mem.f32(px, x.length).set(x);
  let offset = 0;
  outs.forEach((o, i) => {
    k.copy_rows(px + offset * 4, total * 4, at[i], channels[i] * 4, channels[i] * 4, rows);
    o.set(mem.f32(at[i], o.length));
    offset += channels[i];
  });
  return true;
}

/** Per channel, the float64 sum of x [rows, c] over its rows; null if not applicable. */
export function simdChannelSums(x: Float32Array, c: number): Float64Array | null {
  const k = usable(c);
  if (!k) return null;
  const mem = new Layout(k.memory);
  const px = mem.reserve(x.length * 4);
  const pSum = mem.reserve(c * 8);
  if (!mem.commit()) return null;
  mem.f32(px, x.length).set(x);
  mem.f64(pSum, c).fill(0);
  k.channel_sums(px, pSum, x.length / c, c * 4);
  return mem.f64(pSum, c).slice();
}
