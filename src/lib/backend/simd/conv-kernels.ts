// 2-D convolutions (NHWC, dilation 1) in WebAssembly SIMD with fused multiply-add
// (conv-kernels.wat): the forward pass and the weight gradient, used by wasm-kernels.ts in place
// of XNNPACK when the output channels are a multiple of 8 (the input channels any count).
import { CONV_KERNELS_WASM } from './conv-kernels-wasm';
import { Layout, lazyInstance, simdKernelsEnabled, type WasmMemory } from './module';

interface ConvKernels {
  memory: WasmMemory;
  conv_filter_grad(
    x: number, dy: number, dw: number, taps: number, nTaps: number,
    images: number, h: number, oh: number, sh: number, top: number,
    xRow: number, dyRow: number, xStep: number, ci: number, co: number,
  ): void;
  conv_forward(
    xp: number, w: number, b: number, y: number,
    images: number, oh: number, ow: number, kh: number, span: number,
    xpImage: number, xpRow: number, rowStep: number, xStep: number, co: number,
  ): void;
}

const load = lazyInstance<ConvKernels>(CONV_KERNELS_WASM, { relaxedSimd: true });

/** The geometry of a convolution, as tf's computeConv2DInfo gives it. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  /** Zero rows above the input, zero columns left of it. */
  top: number;
  left: number;
}

/** Whether simdConv and simdConvFilterGrad take this convolution (they return false otherwise). */
export function simdConvApplies(g: ConvGeometry): boolean {
  const sizes = [g.batchSize, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth, g.outChannels];
  return g.outChannels % 8 === 0 && sizes.every((d) => d > 0) && simdKernelsEnabled() && load() !== null;
}

/**
 * y [n, oh, ow, co] = the convolution of x [n, h, w, ci] with the filter w [kh, kw, ci, co], plus
 * `bias` [co] if given; false (y untouched) if not applicable.
 */
export function simdConv(x: Float32Array, filter: Float32Array, bias: Float32Array | null, g: ConvGeometry, y: Float32Array): boolean {
  if (!simdConvApplies(g)) return false;
  const k = load()!;
  const { inHeight: h, inWidth: w, inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw } = g;
  // The input with its zero padding written out, cropped to the rows and columns a tap reaches.
  const hp = (g.outHeight - 1) * g.strideHeight + kh;
  const wp = (g.outWidth - 1) * g.strideWidth + kw;
  // A row's last block of 4 output pixels may read up to 3 pixels (3 sw ci floats) past the end
  // of xp: zero slack after it (its results are not stored, but garbage could be slow denormals).
  const xpLength = g.batchSize * hp * wp * ci + 3 * g.strideWidth * ci;
  const mem = new Layout(k.memory);
  const pxp = mem.reserve(xpLength * 4);
  const pw = mem.reserve(filter.length * 4);
  const pb = mem.reserve(co * 4);
  const py = mem.reserve(y.length * 4);
  if (!mem.commit()) return false;
  const xp = mem.f32(pxp, xpLength);
  xp.fill(0);
  const rows = Math.min(h, hp - g.top);
  const cols = Math.min(w, wp - g.left) * ci;
  for (let n = 0; n < g.batchSize && cols > 0; n++) {
    for (let r = 0; r < rows; r++) {
      const from = ((n * h + r) * w) * ci;
      xp.set(x.subarray(from, from + cols), ((n * hp + r + g.top) * wp + g.left) * ci);
    }
  }
  // The filter in blocks of 8 output channels: wb[o / 8, j, o % 8] = w[j, o] (j = ky, kx, c).
  const wb = mem.f32(pw, filter.length);
  const taps = filter.length / co;
  for (let o = 0; o < co; o++) {
    const block = (o >> 3) * taps * 8 + (o & 7);
    for (let j = 0; j < taps; j++) wb[block + j * 8] = filter[j * co + o];
  }
  const b = mem.f32(pb, co);
  if (bias) b.set(bias);
  else b.fill(0);
  k.conv_forward(
    pxp, pw, pb, py,
    g.batchSize, g.outHeight, g.outWidth, kh, kw * ci,
    hp * wp * ci * 4, wp * ci * 4, g.strideHeight * wp * ci * 4, g.strideWidth * ci * 4, co,
  );
  y.set(mem.f32(py, y.length));
  return true;
}

/**
 * dw [kh, kw, ci, co] = the gradient of the convolution's filter, from its input x [n, h, w, ci]
 * and the gradient dy [n, oh, ow, co] of its output; false (dw untouched) if not applicable.
 */
export function simdConvFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, dw: Float32Array): boolean {
  if (!simdConvApplies(g)) return false;
  const k = load()!;
  const { inChannels: ci, outChannels: co, strideWidth: sw } = g;
  // Taps (ky, kx) with the columns ox whose input column ox*sw + kx - left lies in [0, w).
  const taps: number[] = [];
  for (let ky = 0; ky < g.filterHeight; ky++) {
    for (let kx = 0; kx < g.filterWidth; kx++) {
      const first = Math.max(0, Math.ceil((g.left - kx) / sw));
      const end = Math.min(g.outWidth, Math.floor((g.inWidth - 1 + g.left - kx) / sw) + 1);
      if (end <= first) continue;
      taps.push(ky, (first * sw + kx - g.left) * ci * 4, first * co * 4, end - first, (ky * g.filterWidth + kx) * ci * co * 4);
    }
  }
  const mem = new Layout(k.memory);
  const px = mem.reserve(x.length * 4);
  const pdy = mem.reserve(dy.length * 4);
  const pdw = mem.reserve(dw.length * 4);
  const pTaps = mem.reserve(taps.length * 4);
  if (!mem.commit()) return false;
  mem.f32(px, x.length).set(x);
  mem.f32(pdy, dy.length).set(dy);
  mem.f32(pdw, dw.length).fill(0);
  mem.i32(pTaps, taps.length).set(taps);
  k.conv_filter_grad(
    px, pdy, pdw, pTaps, taps.length / 5,
    g.batchSize, g.inHeight, g.outHeight, g.strideHeight, g.top,
    g.inWidth * ci * 4, g.outWidth * co * 4, sw * ci * 4, ci, co,
  );
  dw.set(mem.f32(pdw, dw.length));
  return true;
}
