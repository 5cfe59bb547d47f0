// The weight gradient of a 2-D convolution (NHWC, dilation 1) in WebAssembly SIMD
// (conv-kernels.wat), used by wasm-kernels.ts in place of the XNNPACK formulation there when the
// output channels are a multiple of 8.
import { CONV_KERNELS_WASM } from './conv-kernels-wasm';
import { Layout, lazyInstance, simdKernelsEnabled, type WasmMemory } from './module';

interface ConvKernels {
  memory: WasmMemory;
  conv_filter_grad(
    x: number, dy: number, dw: number, taps: number, nTaps: number,
    images: number, h: number, oh: number, sh: number, top: number,
    xRow: number, dyRow: number, xStep: number, ci: number, co: number,
  ): void;
}

const load = lazyInstance<ConvKernels>(CONV_KERNELS_WASM);

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

/** Whether simdConvFilterGrad takes this convolution (it returns false otherwise). */
export function simdConvFilterGradApplies(g: ConvGeometry): boolean {
  return g.outChannels % 8 === 0 && g.outChannels > 0 && g.inChannels > 0 && simdKernelsEnabled() && load() !== null;
}

/**
 * dw [kh, kw, ci, co] = the gradient of the convolution's filter, from its input x [n, h, w, ci]
 * and the gradient dy [n, oh, ow, co] of its output; false (dw untouched) if not applicable.
 */
export function simdConvFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, dw: Float32Array): boolean {
  if (!simdConvFilterGradApplies(g)) return false;
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
