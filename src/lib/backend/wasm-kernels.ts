// Convolution kernels for @tensorflow/tfjs-backend-wasm 4.22.
//
// 0. Where the output channels are a multiple of 8 (every conv of the UNets but the last), Conv2D,
// FusedConv2D, the weight gradient and products of matrices run our WebAssembly SIMD kernels
// (simd/conv-kernels.wat; docs/performance.md section 7), and so do the input gradients below,
// which are Conv2D calls. Sections 1 and 2 describe how the gradients are computed otherwise, from
// the kernels the backend has (chiefly its XNNPACK Conv2D):
//
// 1. Conv2DBackpropFilter (the weight gradient of conv2d, and of conv2dTranspose) is missing, so
// training any conv net on wasm throws. The weight gradient is itself a convolution:
//
//   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh + kh - top, ow*sw + kw - left, ci] * dy[n,oh,ow,co]
//
// Read x as a batch of ci images with n channels, X' = transpose(x, [3,1,2,0]) : [ci, H, W, n],
// and dy as a filter of size oh x ow from n to co channels, F' = transpose(dy, [1,2,0,3]) :
// [oh, ow, n, co]. Then dW' = conv2d(X', F') : [ci, kh, kw, co] with stride 1, dilation = the
// forward stride (filter tap oh lands on row oh*sh), padding top/left as in the forward conv and
// bottom/right chosen so the output is exactly kh x kw; dW = transpose(dW', [1,2,0,3]).
// A negative bottom/right means the last rows/columns of x are never reached by the forward
// conv (stride does not divide evenly); they are sliced off X' first.
//
// The wasm Conv2D kernel (XNNPACK) supports dilation > 1 with stride 1 and asymmetric explicit
// padding (checked against the cpu backend), so no zero-insertion into dy is needed.
//
// 2. Conv2DBackpropInput (the input gradient of conv2d, and the forward pass of conv2dTranspose)
// exists but is a plain loop, far slower than Conv2D. It is replaced, for NHWC, by Conv2D calls:
//
//   dx[n,y,x,ci] = sum_{kh,kw,co} dy[n,oh,ow,co] * W[kh,kw,ci,co],  y = oh*sh + kh - top
//
// Stride 1: dx = conv2d(dy, W') with W' = W flipped in kh and kw, ci and co swapped, stride 1,
// padding top' = kh-1-top and bottom' chosen so the output has height H (negative -> crop dy).
// Stride > 1: one conv over dy whose output channels hold the sh*sw output phases, interleaved
// afterwards (phaseSplitBackpropInput below), rather than over a zero-upsampled dy, which would
// multiply sh*sw times as many zeros as values. NCHW goes to the original kernel.
// The costs of each form are in docs/performance.md (sections 5, 7 and 8).
//
// The kernels are called directly (not through tf ops) so that the stride/dilation check of
// tf.conv2d does not apply and no intermediate goes through the engine; intermediates are freed
// with backend.disposeData.
import { tf } from './tf';
import {
  interleavePhases,
  interleavePhasesAvailable,
  simdConv,
  simdConvApplies,
  simdConvFilterGrad,
  simdConvScratchBytes,
  type ConvGeometry,
} from './simd/conv-kernels';
import { backendHeap } from './simd/module';
import {
  winogradApplies,
  winogradConv,
  winogradFilterGrad,
  winogradFilterGradApplies,
  winogradFilterGradScratchBytes,
  winogradScratchBytes,
} from './simd/winograd';
import type { WasmBackendLike } from './wasm-channel-ops';
import { replaceWasmKernel } from './wasm-replace-kernel';

const BACKEND = 'wasm';

/** Runs kernels the wasm backend already has; frees every output it made except the result. */
class WasmOps {
  private readonly made: tf.TensorInfo[] = [];

  constructor(readonly backend: tf.KernelBackend) {}

  /** An intermediate, freed by free(). */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
    const out = this.result(kernelName, inputs, attrs);
    this.made.push(out);
    return out;
  }

  /** The kernel's output, owned by the caller. */
  result(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, BACKEND);
    if (kernel === undefined) {
      throw new Error(
        `The wasm convolution gradients need the wasm ${kernelName} kernel, which is not registered. ` +
          `Install @tensorflow/tfjs-backend-wasm@${tf.version_core} (the version matching tfjs-core).`,
      );
    }
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      throw new Error(`wasm ${kernelName} returned ${out.length} outputs where one was expected.`);
    }
    return out;
  }

  /** A tensor's values, copied out of the wasm heap. */
  read(t: tf.TensorInfo): Float32Array {
    return this.backend.readSync(t.dataId) as Float32Array;
  }

  /** A new float32 intermediate holding `values`, freed by free(). */
  write(values: Float32Array, shape: number[]): tf.TensorInfo {
    const info = { dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' as const };
    this.made.push(info);
    return info;
  }

  free(): void {
    for (const t of this.made) this.backend.disposeData(t.dataId);
    this.made.length = 0;
  }
}

type Shape4 = [number, number, number, number];

interface GradientAttrs {
  strides: number | [number, number];
  pad: tf.Conv2DBackpropFilterAttrs['pad'];
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

function checkNhwcUndilated(kernelName: string, attrs: GradientAttrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(
      `${kernelName} on wasm supports dataFormat 'NHWC' only, got '${attrs.dataFormat}'. ` + `Transpose NCHW tensors to NHWC before the convolution.`,
    );
  }
  const d = attrs.dilations ?? 1;
  if ((Array.isArray(d) ? d : [d, d]).some((v) => v !== 1)) {
    throw new Error(`${kernelName} on wasm supports dilations of 1 only, got ${JSON.stringify(d)}.`);
  }
}

function convInfo(kernelName: string, xShape: number[], filterShape: number[], dyShape: number[], attrs: GradientAttrs): tf.backend_util.Conv2DInfo {
  if (xShape.length !== 4 || filterShape.length !== 4 || dyShape.length !== 4) {
    throw new Error(`${kernelName} expects 4-D shapes, got x [${xShape}], filter [${filterShape}], dy [${dyShape}].`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (dyShape.some((size, i) => size !== info.outShape[i])) {
    throw new Error(`${kernelName}: dy has shape [${dyShape}] but a conv of x [${xShape}] with filter ` + `[${filterShape}] gives [${info.outShape}].`);
  }
  return info;
}

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs inputs x and dy.');
  const attrs = (args.attrs ?? {}) as unknown as GradientAttrs & { filterShape: Shape4 };
  checkNhwcUndilated('Conv2DBackpropFilter', attrs);
  const filterShape = attrs.filterShape;
  const info = convInfo('Conv2DBackpropFilter', x.shape, filterShape, dy.shape, attrs);
  const [n, h, w] = x.shape;
  const [kh, kw, ci] = filterShape;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;

  if (x.dtype === 'float32' && dy.dtype === 'float32') {
    const dw = simdFilterGradOutput(args.backend, { ...info, top, left }, filterShape, x, dy);
    if (dw !== null) return dw;
  }

  // Padding after the last row/column so that the dilated dy-filter yields exactly kh x kw.
  const bottom = kh + (oh - 1) * sh - h - top;
  const right = kw + (ow - 1) * sw - w - left;

  const ops = new WasmOps(args.backend as tf.KernelBackend);
  try {
    let xT = ops.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [ci,h,w,n]
    if (bottom < 0 || right < 0) {
      const size = [ci, h + Math.min(bottom, 0), w + Math.min(right, 0), n];
      xT = ops.run('Slice', { x: xT }, { begin: [0, 0, 0, 0], size });
    }
    const dyT = ops.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [oh,ow,n,co]
    const dWT = ops.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad: [
          [0, 0],
          [top, Math.max(bottom, 0)],
          [left, Math.max(right, 0)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    ); // [ci,kh,kw,co]
    return ops.result('Transpose', { x: dWT }, { perm: [1, 2, 0, 3] });
  } finally {
    ops.free();
  }
}

/** The wasm backend's own Conv2DBackpropInput, kept for what the fast path does not handle. */
let loopConv2DBackpropInput: tf.KernelFunc | undefined;

function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const attrs = (args.attrs ?? {}) as unknown as GradientAttrs & { inputShape: Shape4 };
  if (attrs.dataFormat === 'NCHW' && loopConv2DBackpropInput !== undefined) {
    return loopConv2DBackpropInput(args);
  }
  const { dy, filter } = args.inputs;
  if (dy === undefined || filter === undefined) throw new Error('Conv2DBackpropInput needs inputs dy and filter.');
  checkNhwcUndilated('Conv2DBackpropInput', attrs);
  const info = convInfo('Conv2DBackpropInput', attrs.inputShape, filter.shape, dy.shape, attrs);
  const [n, h, w] = attrs.inputShape;
  const [kh, kw] = filter.shape;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;

  const ops = new WasmOps(args.backend as tf.KernelBackend);
  try {
    if (sh > 1 || sw > 1) {
      return phaseSplitBackpropInput(ops, dy, filter, { n, h, w, oh, ow, sh, sw, top, left });
    }
    // Stride 1: a conv of dy with the flipped filter, padded (or cropped) to give exactly h x w.
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = h + top - oh;
    const padRight = w + left - ow;
    const input = cropForNegativePadding(ops, dy, [padTop, padBottom, padLeft, padRight]);
    const flipped = ops.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = ops.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh,kw,co,ci]
    return ops.result('Conv2D', { x: input, filter: swapped }, stride1Conv([padTop, padBottom, padLeft, padRight]));
  } finally {
    ops.free();
  }
}

/** Attributes of a stride-1 NHWC Conv2D with the non-negative part of the given padding. */
function stride1Conv([top, bottom, left, right]: number[]): tf.NamedAttrMap {
  return {
    strides: [1, 1],
    dilations: [1, 1],
    pad: [
      [0, 0],
      [Math.max(top, 0), Math.max(bottom, 0)],
      [Math.max(left, 0), Math.max(right, 0)],
      [0, 0],
    ],
    dataFormat: 'NHWC',
  };
}

/** Crops x [n,H,W,c] where a padding [top, bottom, left, right] is negative (the conv pads the rest). */
function cropForNegativePadding(ops: WasmOps, x: tf.TensorInfo, [top, bottom, left, right]: number[]): tf.TensorInfo {
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return x;
  const [n, h, w, c] = x.shape;
  const begin = [0, Math.max(-top, 0), Math.max(-left, 0), 0];
  const size = [n, h + Math.min(top, 0) + Math.min(bottom, 0), w + Math.min(left, 0) + Math.min(right, 0), c];
  return ops.run('Slice', { x }, { begin, size });
}

/**
 * The input gradient of a strided conv without multiplying zeros. Output row y = q*sh + py - top
 * (phase py) only receives the filter taps kh = py + sh*j:
 *
 *   dx[q*sh + py - top] = sum_j dy[q - j] * W[py + sh*j]
 *
 * a stride-1 conv of dy with the sub-filter W[py::sh] flipped; columns likewise. All sh*sw phases
 * are one Conv2D whose output channels are the phases side by side: the filter is rearranged to
 * [jh, jw, co, sh*sw*ci] (zero taps added where the kernel size is not a multiple of the stride),
 * and the phases are interleaved into rows and columns by a transpose (depth to space). Every
 * phase is computed over the same rows q = qa..qb and columns; the h x w window of dx is cut out.
 * Against a conv over the zero-upsampled dy this does 1/(sh*sw) of the multiplies when the
 * stride divides the kernel (4x4 stride 2, 7x7 stride 7) and 16/36 for 3x3 stride 2.
 */
function phaseSplitBackpropInput(
  ops: WasmOps,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: { n: number; h: number; w: number; oh: number; ow: number; sh: number; sw: number; top: number; left: number },
): tf.TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const { sh, sw } = g;
  const jh = Math.ceil(kh / sh);
  const jw = Math.ceil(kw / sw);
  const weights = ops.read(filter);
  const phased = new Float32Array(jh * jw * co * sh * sw * ci);
  for (let a = 0; a < jh; a++) {
    for (let b = 0; b < jw; b++) {
      for (let py = 0; py < sh; py++) {
        for (let px = 0; px < sw; px++) {
          const y = (jh - 1 - a) * sh + py;
          const x = (jw - 1 - b) * sw + px;
          if (y >= kh || x >= kw) continue;
          for (let o = 0; o < co; o++) {
            const to = (((a * jw + b) * co + o) * sh + py) * sw * ci + px * ci;
            for (let c = 0; c < ci; c++) phased[to + c] = weights[((y * kw + x) * ci + c) * co + o];
          }
        }
      }
    }
  }
  const phaseFilter = ops.write(phased, [jh, jw, co, sh * sw * ci]);
  const qa = Math.floor(g.top / sh);
  const qb = Math.floor((g.h - 1 + g.top) / sh);
  const pa = Math.floor(g.left / sw);
  const pb = Math.floor((g.w - 1 + g.left) / sw);
  const rows = qb - qa + 1;
  const cols = pb - pa + 1;
  const padding = [jh - 1 - qa, qb + 1 - g.oh, jw - 1 - pa, pb + 1 - g.ow];
  const input = cropForNegativePadding(ops, dy, padding);
  const phases = ops.run('Conv2D', { x: input, filter: phaseFilter }, stride1Conv(padding)); // [n,rows,cols,sh*sw*ci]
  if (interleavePhasesAvailable()) {
    const backend = ops.backend as unknown as WasmBackendLike;
    const dx = backend.makeOutput([g.n, g.h, g.w, ci], 'float32');
    const layout = { images: g.n, rows, cols, sh, sw, channels: ci, top: g.top - qa * sh, left: g.left - pa * sw, h: g.h, w: g.w };
    interleavePhases(backend.typedArrayFromHeap(phases), backend.typedArrayFromHeap(dx), layout);
    return dx;
  }
  const grouped = ops.run('Reshape', { x: phases }, { shape: [g.n * rows, cols, sh, sw * ci] });
  const spaced = ops.run('Transpose', { x: grouped }, { perm: [0, 2, 1, 3] }); // [n*rows, sh, cols, sw*ci]
  const interleaved = ops.run('Reshape', { x: spaced }, { shape: [g.n, rows * sh, cols * sw, ci] });
  return ops.result(
    'Slice',
    { x: interleaved },
    {
      begin: [0, g.top - qa * sh, g.left - pa * sw, 0],
      size: [g.n, g.h, g.w, ci],
    },
  );
}

/**
 * winogradConv or simdConv into a new output tensor of `outShape`; null, with nothing left allocated, where it does
 * not apply. Its heap scratch is allocated, and the output made, before any view of the heap is
 * taken (an allocation can grow the heap, which detaches earlier views).
 */
function simdConvOutput(
  kernelBackend: object,
  geometry: ConvGeometry,
  outShape: number[],
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | null,
  filterTransposed = false,
): tf.TensorInfo | null {
  const heap = backendHeap();
  if (!heap || !simdConvApplies(geometry)) return null;
  const backend = kernelBackend as WasmBackendLike;
  const winograd = !filterTransposed && winogradApplies(geometry);
  const scratch = heap.malloc(winograd ? winogradScratchBytes(geometry) : simdConvScratchBytes(geometry));
  try {
    const y = backend.makeOutput(outShape, 'float32');
    const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
    const [vx, vf, vb, vy] = [view(x), view(filter), bias === null ? null : view(bias), view(y)];
    if (winograd ? winogradConv(vx, vf, vb, geometry, vy, scratch) : simdConv(vx, vf, vb, geometry, vy, scratch, filterTransposed)) return y;
    (kernelBackend as tf.KernelBackend).disposeData(y.dataId);
    return null;
  } finally {
    heap.free(scratch);
  }
}

/**
 * winogradFilterGrad (3x3 stride 1) or simdConvFilterGrad into a new output tensor of `outShape`;
 * null, with nothing left allocated, where neither applies.
 */
function simdFilterGradOutput(kernelBackend: object, geometry: ConvGeometry, outShape: number[], x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo | null {
  const heap = backendHeap();
  if (!simdConvApplies(geometry)) return null;
  const backend = kernelBackend as WasmBackendLike;
  const winograd = heap !== undefined && winogradFilterGradApplies(geometry);
  const scratch = winograd ? heap.malloc(winogradFilterGradScratchBytes(geometry)) : 0;
  try {
    const dw = backend.makeOutput(outShape, 'float32');
    // Views after the allocations (a heap growth detaches earlier views).
    const [vx, vdy, vdw] = [x, dy, dw].map((t) => backend.typedArrayFromHeap(t));
    if (winograd ? winogradFilterGrad(vx, vdy, geometry, vdw, scratch) : simdConvFilterGrad(vx, vdy, geometry, vdw)) return dw;
    (kernelBackend as tf.KernelBackend).disposeData(dw.dataId);
    return null;
  } finally {
    if (winograd) heap.free(scratch);
  }
}

/** The wasm backend's own Conv2D and FusedConv2D (XNNPACK), for what the SIMD kernel does not take. */
const xnnpackConvs = new Map<string, tf.KernelFunc>();

/**
 * Conv2D, and FusedConv2D with a bias and no activation (the UNet's convs), through the SIMD
 * kernels where they apply (NHWC, dilation 1, output channels a multiple of 8): 3x3 and 2x2
 * stride-1 convs with input channels a multiple of 4 by Winograd (simd/winograd-kernels.wat),
 * the rest by the direct conv (simd/conv-kernels.wat). Every other case, and every call when
 * DIFFUSION_SIMD_KERNELS=0, goes to XNNPACK. Using the SIMD kernels everywhere keeps training with
 * and without gradient workers bit for bit the same. The stride-1 and phase-split input gradients
 * above call Conv2D too, and so take the same kernels (the phase convs of 4x4 and 3x3 stride-2
 * layers are 2x2).
 */
function simdOrXnnpackConv(kernelName: string) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] => {
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const attrs = (args.attrs ?? {}) as unknown as GradientAttrs & { activation?: string };
    const dilations = attrs.dilations ?? 1;
    const plain =
      x !== undefined &&
      filter !== undefined &&
      x.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      x.shape.length === 4 &&
      filter.shape.length === 4 &&
      x.shape[3] === filter.shape[2] &&
      (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
      (Array.isArray(dilations) ? dilations : [dilations, dilations]).every((d) => d === 1) &&
      preluActivationWeights === undefined &&
      (attrs.activation ?? 'linear') === 'linear' &&
      (bias === undefined || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === filter.shape[3]));
    if (plain) {
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as Shape4,
        filter.shape as Shape4,
        attrs.strides,
        1,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        'channelsLast',
      );
      const y = simdConvOutput(args.backend, { ...info, ...info.padInfo }, info.outShape, x, filter, bias ?? null);
      if (y !== null) return y;
    }
    const original = xnnpackConvs.get(kernelName);
    if (original === undefined) throw new Error(`wasm ${kernelName}: the backend's own kernel is missing (tfjs-backend-wasm not loaded?).`);
    return original(args as Parameters<tf.KernelFunc>[0]);
  };
}

/** The wasm backend's own BatchMatMul, for what the SIMD kernels do not take. */
let ownBatchMatMul: tf.KernelFunc | undefined;

/**
 * BatchMatMul of two float32 matrices (no batch, or a batch of 1) as a 1x1 convolution over a row of
 * M pixels, through the SIMD kernels: C = A B and C = A B^T by the forward conv (the filter B, or
 * B^T read in place), C = A^T B by the weight gradient; the output's columns a multiple of 8.
 * wasm's own kernel is slow for the UNet's 1x1 -> 7x7 up-projection (docs/performance.md,
 * section 7). Anything else goes to the backend.
 */
function simdOrOwnBatchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const { a, b } = args.inputs;
  const transposeA = args.attrs?.transposeA === true;
  const transposeB = args.attrs?.transposeB === true;
  const matrix = (t: tf.TensorInfo | undefined): t is tf.TensorInfo =>
    t !== undefined && t.dtype === 'float32' && t.shape.length >= 2 && t.shape.slice(0, -2).every((d) => d === 1);
  if (matrix(a) && matrix(b) && !(transposeA && transposeB)) {
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = b.shape.slice(-2);
    const [m, inner, innerB, n] = [transposeA ? ac : ar, transposeA ? ar : ac, transposeB ? bc : br, transposeB ? br : bc];
    if (inner === innerB && m > 0 && inner > 0 && n > 0) {
      const outShape = [...new Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1), m, n];
      // The rows of the product (or, for A^T B, the summed rows) as pixels: two images when even,
      // so the helper thread can take one.
      const rows = transposeA ? ar : m;
      const images = rows % 2 === 0 && rows >= 8 ? 2 : 1;
      const geometry: ConvGeometry = {
        batchSize: images,
        inHeight: 1,
        inWidth: rows / images,
        inChannels: transposeA ? ac : inner,
        outHeight: 1,
        outWidth: rows / images,
        outChannels: n,
        filterHeight: 1,
        filterWidth: 1,
        strideHeight: 1,
        strideWidth: 1,
        top: 0,
        left: 0,
      };
      // C [ac, n] = A^T B sums A[r, :] x B[r, :] over the rows r: the weight gradient of a 1x1 conv.
      const c = transposeA
        ? simdFilterGradOutput(args.backend, geometry, outShape, a, b)
        : simdConvOutput(args.backend, geometry, outShape, a, b, null, transposeB);
      if (c !== null) return c;
    }
  }
  if (ownBatchMatMul === undefined) throw new Error("wasm BatchMatMul: the backend's own kernel is missing (tfjs-backend-wasm not loaded?).");
  return ownBatchMatMul(args as Parameters<tf.KernelFunc>[0]);
}

const simdConvKernels = new Map([tf.Conv2D, tf.FusedConv2D].map((name) => [name, simdOrXnnpackConv(name)]));

export const conv2DBackpropFilterWasmConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropFilter,
};

export const conv2DBackpropInputWasmConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropInput,
};

/**
 * Registers Conv2DBackpropFilter for wasm (unless the installed wasm backend has one), replaces
 * wasm's Conv2DBackpropInput with the fast version and puts the SIMD kernel in front of its
 * Conv2D and FusedConv2D. Safe to call more than once.
 */
export function registerWasmKernels(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, BACKEND) === undefined) {
    tf.registerKernel(conv2DBackpropFilterWasmConfig);
  }
  loopConv2DBackpropInput = replaceWasmKernel(tf.Conv2DBackpropInput, conv2DBackpropInput);
  ownBatchMatMul = replaceWasmKernel(tf.BatchMatMul, simdOrOwnBatchMatMul as tf.KernelFunc);
  for (const [name, kernelFunc] of simdConvKernels) {
    const own = replaceWasmKernel(name, kernelFunc as tf.KernelFunc);
    if (own !== undefined) xnnpackConvs.set(name, own);
  }
}
