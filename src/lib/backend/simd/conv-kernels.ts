// 2-D convolutions (NHWC, dilation 1) in WebAssembly SIMD with fused multiply-add
// (conv-kernels.wat): the forward pass and the weight gradient, used by wasm-kernels.ts in place
// of XNNPACK when the output channels are a multiple of 8 (the input channels any count). They
// work on the wasm backend's heap in place (module.ts).
import { CONV_KERNELS_WASM } from './conv-kernels-wasm';
import { backendHeap, onBackendHeap, runSplit, SimdModule, simdKernelsEnabled, Workspace } from './module';

interface ConvKernels {
  conv_filter_grad(
    x: number,
    dy: number,
    dw: number,
    taps: number,
    nTaps: number,
    images: number,
    h: number,
    oh: number,
    sh: number,
    top: number,
    xRow: number,
    dyRow: number,
    xStep: number,
    ci: number,
    co: number,
  ): void;
  pad_input(
    x: number,
    xp: number,
    xpBytes: number,
    images: number,
    rows: number,
    h: number,
    hp: number,
    xRow: number,
    xpRow: number,
    copyBytes: number,
    top: number,
    leftBytes: number,
  ): void;
  interleave_phases(
    src: number,
    dst: number,
    images: number,
    rows: number,
    cols: number,
    sh: number,
    sw: number,
    ci: number,
    top: number,
    left: number,
    h: number,
    w: number,
  ): void;
  conv_forward(
    xp: number,
    w: number,
    b: number,
    y: number,
    images: number,
    oh: number,
    ow: number,
    kh: number,
    span: number,
    xpImage: number,
    xpRow: number,
    rowStep: number,
    xStep: number,
    co: number,
  ): void;
}

const convModule = new SimdModule<ConvKernels>('conv', CONV_KERNELS_WASM, { relaxedSimd: true });

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
  return g.outChannels % 8 === 0 && sizes.every((d) => d > 0) && simdKernelsEnabled() && convModule.heapKernels() !== null;
}

/** The zero-padded input's rows and columns: those the filter taps reach. */
function paddedSize(g: ConvGeometry): { hp: number; wp: number } {
  return { hp: (g.outHeight - 1) * g.strideHeight + g.filterHeight, wp: (g.outWidth - 1) * g.strideWidth + g.filterWidth };
}

/** Floats of the padded input: a row's last block of 4 output pixels may read up to 3 pixels (3 sw ci floats) past its end. */
function paddedLength(g: ConvGeometry): number {
  const { hp, wp } = paddedSize(g);
  return g.batchSize * hp * wp * g.inChannels + 3 * g.strideWidth * g.inChannels;
}

/**
 * Bytes of heap scratch simdConv needs (the padded input, the filter in blocks, the bias). The
 * caller allocates them before it takes views of the heap: allocating can grow the heap, which
 * detaches earlier views.
 */
export function simdConvScratchBytes(g: ConvGeometry): number {
  return (paddedLength(g) + g.filterHeight * g.filterWidth * g.inChannels * g.outChannels + g.outChannels) * 4 + 32;
}

/**
 * y [n, oh, ow, co] = the convolution of x [n, h, w, ci] with the filter w [kh, kw, ci, co] (or,
 * with `filterTransposed`, given as [co, kh * kw * ci]), plus `bias` [co] if given, all views of
 * the backend heap; `scratch` points to simdConvScratchBytes(g) bytes of it. False (y untouched)
 * if not applicable.
 */
export function simdConv(
  x: Float32Array,
  filter: Float32Array,
  bias: Float32Array | null,
  g: ConvGeometry,
  y: Float32Array,
  scratch: number,
  filterTransposed = false,
): boolean {
  const heap = backendHeap();
  const k = convModule.heapKernels();
  if (!simdConvApplies(g) || !heap || !k || !onBackendHeap(bias ? [x, filter, bias, y] : [x, filter, y])) return false;
  const { inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw } = g;
  const { hp, wp } = paddedSize(g);
  const pxp = Math.ceil(scratch / 16) * 16;
  const pw = pxp + Math.ceil(paddedLength(g) / 4) * 16;
  const pb = pw + filter.length * 4;
  padInput(x, g, hp, wp, paddedLength(g), pxp);
  // The filter in blocks of 8 output channels: wb[o / 8, j, o % 8] = w[j, o] (j = ky, kx, c).
  const wb = new Float32Array(heap.memory.buffer, pw, filter.length);
  const taps = filter.length / co;
  for (let o = 0; o < co; o++) {
    const block = (o >> 3) * taps * 8 + (o & 7);
    if (filterTransposed) for (let j = 0; j < taps; j++) wb[block + j * 8] = filter[o * taps + j];
    else for (let j = 0; j < taps; j++) wb[block + j * 8] = filter[j * co + o];
  }
  const b = new Float32Array(heap.memory.buffer, pb, co);
  if (bias) b.set(bias);
  else b.fill(0);
  // Images [first, first + count) of the batch.
  const args = (first: number, count: number) => [
    pxp + first * hp * wp * ci * 4,
    pw,
    pb,
    y.byteOffset + first * g.outHeight * g.outWidth * co * 4,
    count,
    g.outHeight,
    g.outWidth,
    kh,
    kw * ci,
    hp * wp * ci * 4,
    wp * ci * 4,
    g.strideHeight * wp * ci * 4,
    g.strideWidth * ci * 4,
    co,
  ];
  // The helper thread, where there is one, takes the second half of the images.
  runSplit('conv.conv_forward', g.batchSize, args, k.conv_forward);
  return true;
}

/**
 * Writes x [n, h, w, ci] (a view of the backend heap) with its zero padding into xp [n, hp, wp, ci]
 * at heap byte offset `at`, cropped to hp x wp, followed by zeros up to `length` floats in all.
 */
export function padInput(x: Float32Array, g: ConvGeometry, hp: number, wp: number, length: number, at: number): void {
  const k = convModule.heapKernels();
  if (!k) throw new Error('padInput: the SIMD conv module is not on the backend heap.');
  const { inHeight: h, inWidth: w, inChannels: ci } = g;
  const rows = Math.max(0, Math.min(h, hp - g.top));
  const cols = Math.max(0, Math.min(w, wp - g.left));
  const imageBytes = hp * wp * ci * 4;
  const slackBytes = length * 4 - g.batchSize * imageBytes;
  runSplit(
    'conv.pad_input',
    g.batchSize,
    (first, count) => [
      x.byteOffset + first * h * w * ci * 4,
      at + first * imageBytes,
      count * imageBytes + (first + count === g.batchSize ? slackBytes : 0),
      count,
      cols > 0 ? rows : 0,
      h,
      hp,
      w * ci * 4,
      wp * ci * 4,
      cols * ci * 4,
      g.top,
      g.left * ci * 4,
    ],
    k.pad_input,
  );
}

/** The layout of a phase-split input gradient's conv output (wasm-kernels.ts). */
export interface PhaseLayout {
  images: number;
  /** Rows q and column blocks p of the phase conv's output. */
  rows: number;
  cols: number;
  sh: number;
  sw: number;
  channels: number;
  /** Output pixel (q sh + py - top, p sw + px - left) is phase (py, px) of (q, p). */
  top: number;
  left: number;
  h: number;
  w: number;
}

/** Whether interleavePhases can run (the SIMD conv module is on the backend heap). */
export function interleavePhasesAvailable(): boolean {
  return simdKernelsEnabled() && convModule.heapKernels() !== null;
}

/**
 * dst [images, h, w, channels] = the phases src [images, rows, cols, sh * sw * channels] put in
 * their places (depth to space) and cropped, in one pass; both views of the backend heap.
 */
export function interleavePhases(src: Float32Array, dst: Float32Array, g: PhaseLayout): void {
  const k = convModule.heapKernels();
  if (!k || !onBackendHeap([src, dst])) throw new Error('interleavePhases: the SIMD conv module and both arrays must be on the backend heap.');
  const srcImage = g.rows * g.cols * g.sh * g.sw * g.channels * 4;
  const dstImage = g.h * g.w * g.channels * 4;
  if (src.length * 4 !== g.images * srcImage || dst.length * 4 !== g.images * dstImage) {
    throw new Error(`interleavePhases: arrays of ${src.length} and ${dst.length} values do not fit the layout ${JSON.stringify(g)}.`);
  }
  runSplit(
    'conv.interleave_phases',
    g.images,
    (first, count) => [
      src.byteOffset + first * srcImage,
      dst.byteOffset + first * dstImage,
      count,
      g.rows,
      g.cols,
      g.sh,
      g.sw,
      g.channels,
      g.top,
      g.left,
      g.h,
      g.w,
    ],
    k.interleave_phases,
  );
}

/**
 * dw [kh, kw, ci, co] = the gradient of the convolution's filter, from its input x [n, h, w, ci]
 * and the gradient dy [n, oh, ow, co] of its output; false (dw untouched) if not applicable.
 */
export function simdConvFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, dw: Float32Array): boolean {
  if (!simdConvApplies(g)) return false;
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
  const ws = Workspace.open(convModule, [x, dy], [dw], [taps.length * 4]);
  if (!ws) return false;
  const [px, pdy] = ws.inputs;
  const [pTaps] = ws.scratch;
  ws.f32(ws.outputs[0], dw.length).fill(0);
  ws.i32(pTaps, taps.length).set(taps);
  ws.kernels.conv_filter_grad(
    px,
    pdy,
    ws.outputs[0],
    pTaps,
    taps.length / 5,
    g.batchSize,
    g.inHeight,
    g.outHeight,
    g.strideHeight,
    g.top,
    g.inWidth * ci * 4,
    g.outWidth * co * 4,
    sw * ci * 4,
    ci,
    co,
  );
  ws.close();
  return true;
}
