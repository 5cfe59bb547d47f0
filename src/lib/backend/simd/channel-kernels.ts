// The BatchNorm and GELU loops of fused-kernels.ts, and the channel copies and sums of
// wasm-channel-ops.ts, in WebAssembly SIMD (channel-kernels.wat).
// On the wasm backend the loops run on the tensors in place (see module.ts); other arrays are
// copied in and out (~0.1 ns per element against ~2-3 ns per element for the same loop in
// JavaScript). Every function returns false or null (and does nothing) where it does not apply:
// WebAssembly SIMD missing, a channel count that is not a multiple of 4, the module's memory
// unable to grow, or DIFFUSION_SIMD_KERNELS=0; the caller then runs its JavaScript loop.
// Outputs are written in place, so a caller's views of the heap stay valid (nothing allocates).
import { CHANNEL_KERNELS_WASM } from './channel-kernels-wasm';
import { runSplit, SIMD_KERNELS_ENV_VAR, SimdModule, simdKernelsEnabled, Workspace } from './module';

interface ChannelKernels {
  affine(x: number, y: number, scale: number, shift: number, rows: number, cb: number): void;
  moments(x: number, sum: number, sumSq: number, rows: number, cb: number): void;
  bn_grad_sums(x: number, dy: number, mean: number, sumDy: number, sumDyX: number, rows: number, cb: number): void;
  bn_grad_dx(x: number, dy: number, dx: number, a: number, b: number, d: number, rows: number, cb: number): void;
  gelu(x: number, dy: number, out: number, n12: number, grad: number): void;
  copy_rows(src: number, srcStride: number, dst: number, dstStride: number, bytes: number, rows: number): void;
  channel_sums(x: number, sum: number, rows: number, cb: number): void;
}

export { SIMD_KERNELS_ENV_VAR };

const channelModule = new SimdModule<ChannelKernels>('channel', CHANNEL_KERNELS_WASM, { relaxedSimd: true });

/** Tensors of fewer values stay on one thread (handing half to the helper thread costs ~50 us). */
const SPLIT_MIN_VALUES = 65536;

/** Whether the SIMD loops run here (for channel counts that are multiples of 4). */
export function simdKernelsActive(): boolean {
  return simdKernelsEnabled() && channelModule.available();
}

function usable(c: number): boolean {
  return c % 4 === 0 && c > 0 && simdKernelsActive();
}

/** y = x * scale[c] + shift[c] over rows of c channels; false if not applicable. */
export function simdChannelAffine(x: Float32Array, scale: ArrayLike<number>, shift: ArrayLike<number>, c: number, y: Float32Array): boolean {
  const ws = usable(c) ? Workspace.open(channelModule, [x], [y], [c * 4, c * 4]) : null;
  if (!ws) return false;
  const [ps, pb] = ws.scratch;
  ws.f32(ps, c).set(scale);
  ws.f32(pb, c).set(shift);
  const [px, py] = [ws.inputs[0], ws.outputs[0]];
  const rows = x.length / c;
  if (ws.onHeap) {
    // Rows split with the helper thread, where there is one (large tensors only: a hand-over costs ~50 us).
    runSplit('channel.affine', rows, (first, count) => [px + first * c * 4, py + first * c * 4, ps, pb, count, c * 4], ws.kernels.affine, SPLIT_MIN_VALUES / c);
  } else {
    ws.kernels.affine(px, py, ps, pb, rows, c * 4);
  }
  ws.close();
  return true;
}

/** Per channel, float64 sums of x - x[0, c] and of its square; null if not applicable. */
export function simdChannelShiftedSums(x: Float32Array, c: number): { sum: Float64Array; sumSq: Float64Array } | null {
  const ws = usable(c) ? Workspace.open(channelModule, [x], [], [c * 8, c * 8]) : null;
  if (!ws) return null;
  const [pSum, pSumSq] = ws.scratch;
  ws.f64(pSum, c).fill(0);
  ws.f64(pSumSq, c).fill(0);
  ws.kernels.moments(ws.inputs[0], pSum, pSumSq, x.length / c, c * 4);
  return { sum: ws.f64(pSum, c).slice(), sumSq: ws.f64(pSumSq, c).slice() };
}

/**
 * The BatchNorm gradient's two loops (see fused-kernels.ts): per-channel sums of dy and
 * dy * (x - mean), then, from the coefficients `finish` computes from them, dx = a dy + b x + d.
 * False if not applicable.
 */
export function simdBatchNormGrad(
  x: Float32Array,
  dy: Float32Array,
  mean: ArrayLike<number>,
  c: number,
  finish: (sumDy: Float64Array, sumDyX: Float64Array) => { a: ArrayLike<number>; b: ArrayLike<number>; d: ArrayLike<number> },
  dx: Float32Array,
): boolean {
  const ws = usable(c) ? Workspace.open(channelModule, [x, dy], [dx], [c * 4, c * 8, c * 8, c * 4, c * 4, c * 4]) : null;
  if (!ws) return false;
  const [px, pdy] = ws.inputs;
  const [pMean, pSumDy, pSumDyX, pa, pb, pd] = ws.scratch;
  ws.f32(pMean, c).set(mean);
  ws.f64(pSumDy, c).fill(0);
  ws.f64(pSumDyX, c).fill(0);
  const rows = x.length / c;
  ws.kernels.bn_grad_sums(px, pdy, pMean, pSumDy, pSumDyX, rows, c * 4);
  const { a, b, d } = finish(ws.f64(pSumDy, c).slice(), ws.f64(pSumDyX, c).slice());
  ws.f32(pa, c).set(a);
  ws.f32(pb, c).set(b);
  ws.f32(pd, c).set(d);
  ws.kernels.bn_grad_dx(px, pdy, ws.outputs[0], pa, pb, pd, rows, c * 4);
  ws.close();
  return true;
}

/** Values the SIMD GELU loop takes per iteration (three groups of 4, see channel-kernels.wat). */
const GELU_BLOCK = 12;

/**
 * GELU, y = x Phi(x), or with `dy` its gradient dy (Phi(x) + x phi(x)), into `out`; false if
 * not applicable. Phi from erfc (Abramowitz and Stegun 7.1.26) and one exponential per element.
 * The loop takes blocks of 12 values; the last 1-11 of a length not divisible by 12 go through
 * it on a zero-padded copy (the loop must not write past the end of `out`).
 */
export function simdGelu(x: Float32Array, dy: Float32Array | null, out: Float32Array): boolean {
  if (!simdKernelsActive()) return false;
  const whole = x.length - (x.length % GELU_BLOCK);
  const run = (xs: Float32Array, dys: Float32Array | null, outs: Float32Array): boolean => {
    const ws = Workspace.open(channelModule, dys ? [xs, dys] : [xs], [outs], []);
    if (!ws) return false;
    const [px, pdy, pout] = [ws.inputs[0], dys ? ws.inputs[1] : 0, ws.outputs[0]];
    const blocks = xs.length / GELU_BLOCK;
    const bytes = GELU_BLOCK * 4;
    const args = (first: number, count: number) => [px + first * bytes, dys ? pdy + first * bytes : 0, pout + first * bytes, count, dys ? 1 : 0];
    if (ws.onHeap) runSplit('channel.gelu', blocks, args, ws.kernels.gelu, SPLIT_MIN_VALUES / GELU_BLOCK);
    else ws.kernels.gelu(px, pdy, pout, blocks, dys ? 1 : 0);
    ws.close();
    return true;
  };
  if (whole > 0 && !run(x.subarray(0, whole), dy ? dy.subarray(0, whole) : null, out.subarray(0, whole))) return false;
  if (whole < x.length) {
    const pad = (a: Float32Array) => {
      const p = new Float32Array(GELU_BLOCK);
      p.set(a.subarray(whole));
      return p;
    };
    const tail = new Float32Array(GELU_BLOCK);
    if (!run(pad(x), dy ? pad(dy) : null, tail)) return false;
    out.set(tail.subarray(0, x.length - whole), whole);
  }
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
  const ws = allQuads(channels) && simdKernelsActive() ? Workspace.open(channelModule, parts, [out], []) : null;
  if (!ws) return false;
  const total = channels.reduce((a, b) => a + b, 0);
  const rows = out.length / total;
  let offset = 0;
  parts.forEach((_, i) => {
    ws.kernels.copy_rows(ws.inputs[i], channels[i] * 4, ws.outputs[0] + offset * 4, total * 4, channels[i] * 4, rows);
    offset += channels[i];
  });
  ws.close();
  return true;
}

/** Splits x [rows, sum of channels] along the last axis into `outs` [rows, channels[i]]; false if not applicable. */
export function simdSplitChannels(x: Float32Array, channels: number[], outs: Float32Array[]): boolean {
  const ws = allQuads(channels) && simdKernelsActive() ? Workspace.open(channelModule, [x], outs, []) : null;
  if (!ws) return false;
  const total = channels.reduce((a, b) => a + b, 0);
  const rows = x.length / total;
  let offset = 0;
  outs.forEach((_, i) => {
    ws.kernels.copy_rows(ws.inputs[0] + offset * 4, total * 4, ws.outputs[i], channels[i] * 4, channels[i] * 4, rows);
    offset += channels[i];
  });
  ws.close();
  return true;
}

/** Per channel, the float64 sum of x [rows, c] over its rows; null if not applicable. */
export function simdChannelSums(x: Float32Array, c: number): Float64Array | null {
  const ws = usable(c) ? Workspace.open(channelModule, [x], [], [c * 8]) : null;
  if (!ws) return null;
  const [pSum] = ws.scratch;
  ws.f64(pSum, c).fill(0);
  ws.kernels.channel_sums(ws.inputs[0], pSum, x.length / c, c * 4);
  return ws.f64(pSum, c).slice();
}
