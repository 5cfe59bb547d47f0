// 3x3 and 2x2 stride-1 convolutions by Winograd's minimal filtering (winograd-kernels.wat):
// F(2x2, 3x3) and F(3x3, 2x2) both take 16 multiply-adds per tile (of 2x2 or 3x3 output pixels)
// and channel pair where the direct conv (conv-kernels.wat) needs 36. The UNet's 3x3 convs, their
// input gradients (3x3 convs of the output gradient), their weight gradients (3x3) and the 2x2
// phase convs of its strided transposed convs and conv input gradients take this path on the wasm
// backend's heap; wasm-kernels.ts chooses it.
import { padInput, type ConvGeometry } from './conv-kernels';
import { WINOGRAD_KERNELS_WASM } from './winograd-kernels-wasm';
import { backendHeap, onBackendHeap, runSplit, SimdModule, simdKernelsEnabled } from './module';
import { RUNTIME_OPTION_VARIABLES, runtimeOptions } from '../../runtime-options';

interface WinogradKernels {
  wino_filter(w: number, u: number, ci: number, co: number): void;
  wino_filter2(w: number, u: number, ci: number, co: number): void;
  wino_conv(
    xp: number,
    u: number,
    bias: number,
    y: number,
    v: number,
    m: number,
    first: number,
    count: number,
    chunk: number,
    tilesW: number,
    tilesPerImage: number,
    xpImage: number,
    xpRow: number,
    oh: number,
    ow: number,
    ci: number,
    co: number,
    outputs: number,
  ): void;
  wino_filter_grad(
    xp: number,
    dy: number,
    du: number,
    v: number,
    m: number,
    first: number,
    count: number,
    chunk: number,
    tilesW: number,
    tilesPerImage: number,
    xpImage: number,
    xpRow: number,
    oh: number,
    ow: number,
    ci: number,
    co: number,
  ): void;
  wino_filter_grad_finish(du: number, dw: number, ci: number, co: number): void;
}

const winogradModule = new SimdModule<WinogradKernels>('winograd', WINOGRAD_KERNELS_WASM, { relaxedSimd: true });

/** Environment variable: 0 sends 3x3 and 2x2 convs to the direct SIMD conv instead (for comparisons). */
export const WINOGRAD_ENV_VAR = RUNTIME_OPTION_VARIABLES.winograd;

/** Tiles transformed and multiplied together (a multiple of 4): their V and M stay in cache. */
const CHUNK_TILES = 32;

/** Whether winogradConv takes this convolution: 3x3 or 2x2, stride 1, input channels a multiple of 4, output channels of 8. */
export function winogradApplies(g: ConvGeometry): boolean {
  const sizes = [g.batchSize, g.inHeight, g.inWidth, g.outHeight, g.outWidth];
  return (
    (g.filterHeight === 3 || g.filterHeight === 2) &&
    g.filterWidth === g.filterHeight &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.inChannels % 4 === 0 &&
    g.inChannels > 0 &&
    g.outChannels % 8 === 0 &&
    g.outChannels > 0 &&
    sizes.every((d) => d > 0) &&
    simdKernelsEnabled() &&
    runtimeOptions().winograd &&
    winogradModule.heapKernels() !== null
  );
}

/**
 * The tile grid: each tile, `outputs` x `outputs` pixels (2 for a 3x3 filter, 3 for 2x2), reads a
 * 4x4 block of the padded input.
 */
function tiling(g: ConvGeometry) {
  const outputs = g.filterHeight === 3 ? 2 : 3;
  const tilesH = Math.ceil(g.outHeight / outputs);
  const tilesW = Math.ceil(g.outWidth / outputs);
  const hp = outputs * tilesH + 4 - outputs;
  const wp = outputs * tilesW + 4 - outputs;
  return { outputs, tilesH, tilesW, hp, wp, padded: g.batchSize * hp * wp * g.inChannels };
}

/** Floats of scratch: the padded input, U, the bias, and per thread (two at most) V and M of a chunk. */
function scratchLayout(g: ConvGeometry) {
  const { inChannels: ci, outChannels: co } = g;
  const align = (floats: number) => Math.ceil(floats / 4) * 4;
  const xp = 0;
  const u = xp + align(tiling(g).padded);
  const bias = u + 16 * ci * co;
  // V and M: 16 blocks each, a cache line (16 floats) after each block (winograd-kernels.wat).
  const vFloats = 16 * (CHUNK_TILES * ci + 16);
  const mFloats = 16 * (CHUNK_TILES * co + 16);
  const v = [bias + co, bias + co + vFloats + mFloats];
  const m = v.map((at) => at + vFloats);
  return { xp, u, bias, v, m, floats: v[1] + vFloats + mFloats };
}

/** Bytes of heap scratch winogradConv needs; the caller allocates them before taking heap views. */
export function winogradScratchBytes(g: ConvGeometry): number {
  return scratchLayout(g).floats * 4 + 16;
}

/**
 * y [n, oh, ow, co] = the stride-1 convolution of x [n, h, w, ci] with the filter
 * w [k, k, ci, co] (k = 3 or 2), plus `bias` [co] if given, all views of the backend heap; `scratch` points to
 * winogradScratchBytes(g) bytes of it. False (y untouched) if not applicable.
 */
export function winogradConv(x: Float32Array, filter: Float32Array, bias: Float32Array | null, g: ConvGeometry, y: Float32Array, scratch: number): boolean {
  const heap = backendHeap();
  const k = winogradModule.heapKernels();
  if (!winogradApplies(g) || !heap || !k || !onBackendHeap(bias ? [x, filter, bias, y] : [x, filter, y])) return false;
  const { inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = g;
  const { outputs, tilesH, tilesW, hp, wp, padded } = tiling(g);
  const base = Math.ceil(scratch / 16) * 16;
  const at = (floats: number) => base + floats * 4;
  const layout = scratchLayout(g);
  padInput(x, g, hp, wp, padded, at(layout.xp));
  (outputs === 2 ? k.wino_filter : k.wino_filter2)(filter.byteOffset, at(layout.u), ci, co);
  const b = new Float32Array(heap.memory.buffer, at(layout.bias), co);
  if (bias) b.set(bias);
  else b.fill(0);
  const tilesPerImage = tilesH * tilesW;
  // runSplit gives this thread [0, half) and the helper [half, total): each its own V and M.
  const args = (first: number, count: number) => {
    const part = first === 0 ? 0 : 1;
    return [
      at(layout.xp),
      at(layout.u),
      at(layout.bias),
      y.byteOffset,
      at(layout.v[part]),
      at(layout.m[part]),
      first,
      count,
      CHUNK_TILES,
      tilesW,
      tilesPerImage,
      hp * wp * ci * 4,
      wp * ci * 4,
      oh,
      ow,
      ci,
      co,
      outputs,
    ];
  };
  runSplit('winograd.wino_conv', g.batchSize * tilesPerImage, args, k.wino_conv);
  return true;
}

/** Whether winogradFilterGrad takes this convolution's weight gradient: as winogradApplies, 3x3 only. */
export function winogradFilterGradApplies(g: ConvGeometry): boolean {
  return g.filterHeight === 3 && winogradApplies(g);
}

/** Floats of the weight gradient's scratch: the padded input, dU, and one V and M of a chunk. */
function filterGradLayout(g: ConvGeometry) {
  const { inChannels: ci, outChannels: co } = g;
  const xp = 0;
  const du = xp + Math.ceil(tiling(g).padded / 4) * 4;
  const v = du + 16 * ci * co;
  const m = v + 16 * (CHUNK_TILES * ci + 16);
  return { xp, du, v, m, floats: m + 16 * (CHUNK_TILES * co + 16) };
}

/** Bytes of heap scratch winogradFilterGrad needs; the caller allocates them before taking heap views. */
export function winogradFilterGradScratchBytes(g: ConvGeometry): number {
  return filterGradLayout(g).floats * 4 + 16;
}

/**
 * dw [3, 3, ci, co] = the gradient of a 3x3 stride-1 convolution's filter, from its input
 * x [n, h, w, ci] and the gradient dy [n, oh, ow, co] of its output, all views of the backend
 * heap; `scratch` points to winogradFilterGradScratchBytes(g) bytes of it. False (dw untouched) if
 * not applicable. One thread: the sum over tiles keeps one order, so that gradients are the same
 * bits with and without the helper thread (as in a gradient worker).
 */
export function winogradFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, dw: Float32Array, scratch: number): boolean {
  const k = winogradModule.heapKernels();
  if (!winogradFilterGradApplies(g) || !k || !onBackendHeap([x, dy, dw])) return false;
  const { inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = g;
  const { tilesH, tilesW, hp, wp, padded } = tiling(g);
  const base = Math.ceil(scratch / 16) * 16;
  const at = (floats: number) => base + floats * 4;
  const layout = filterGradLayout(g);
  padInput(x, g, hp, wp, padded, at(layout.xp));
  const tilesPerImage = tilesH * tilesW;
  k.wino_filter_grad(
    at(layout.xp),
    dy.byteOffset,
    at(layout.du),
    at(layout.v),
    at(layout.m),
    0,
    g.batchSize * tilesPerImage,
    CHUNK_TILES,
    tilesW,
    tilesPerImage,
    hp * wp * ci * 4,
    wp * ci * 4,
    oh,
    ow,
    ci,
    co,
  );
  k.wino_filter_grad_finish(at(layout.du), dw.byteOffset, ci, co);
  return true;
}
