// Convolution gradient kernels for @tensorflow/tfjs-backend-wasm 4.22, built from the kernels it has
// (chiefly its fast XNNPACK Conv2D).
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
// Cost at x=[64,28,28,64], 3x3, stride 1: about 2x a forward conv2d (two transposes ~50 ms, the
// conv ~1.4x the forward one).
//
// 2. Conv2DBackpropInput (the input gradient of conv2d, and the forward pass of conv2dTranspose)
// exists but is a plain loop, about 10x slower than Conv2D (x=[64,28,28,64], 3x3: 1880 ms against
// 166 ms). It is replaced, for NHWC, by a Conv2D of the zero-upsampled dy with the flipped filter:
//
//   dx[n,y,x,ci] = sum_{kh,kw,co} dy[n,oh,ow,co] * W[kh,kw,ci,co],  y = oh*sh + kh - top
//
// Put dy on a grid of step sh (dyZ[n, oh*sh] = dy[n, oh], zeros between; a Reshape to
// [n,oh,1,ow,1,co] and a PadV2 of the size-1 axes to sh and sw). Then
// dx[y] = sum_kh dyZ[y + top - kh] * W[kh] = conv2d(dyZ, W'), where W' = W flipped in kh and kw
// with ci and co swapped, stride 1, padding top' = kh-1-top and bottom' chosen so the output has
// height H (negative -> crop dyZ). For stride > 1 this does sh*sw times the necessary multiplies
// (most of dyZ is zero) but is still ~3x faster than the loop (splitting into sh*sw phase
// convolutions would remove that waste). NCHW goes to the original kernel.
//
// The kernels are called directly (not through tf ops) so that the stride/dilation check of
// tf.conv2d does not apply and no intermediate goes through the engine; intermediates are freed
// with backend.disposeData.
import { tf } from './tf';

const BACKEND = 'wasm';

/** Runs kernels the wasm backend already has; frees every output it made except the result. */
class WasmOps {
  private readonly made: tf.TensorInfo[] = [];

  constructor(private readonly backend: tf.KernelBackend) {}

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
      `${kernelName} on wasm supports dataFormat 'NHWC' only, got '${attrs.dataFormat}'. ` +
        `Transpose NCHW tensors to NHWC before the convolution.`,
    );
  }
  const d = attrs.dilations ?? 1;
  if ((Array.isArray(d) ? d : [d, d]).some((v) => v !== 1)) {
    throw new Error(`${kernelName} on wasm supports dilations of 1 only, got ${JSON.stringify(d)}.`);
  }
}

function convInfo(
  kernelName: string,
  xShape: number[],
  filterShape: number[],
  dyShape: number[],
  attrs: GradientAttrs,
): tf.backend_util.Conv2DInfo {
  if (xShape.length !== 4 || filterShape.length !== 4 || dyShape.length !== 4) {
    throw new Error(
      `${kernelName} expects 4-D shapes, got x [${xShape}], filter [${filterShape}], dy [${dyShape}].`,
    );
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
    throw new Error(
      `${kernelName}: dy has shape [${dyShape}] but a conv of x [${xShape}] with filter ` +
        `[${filterShape}] gives [${info.outShape}].`,
    );
  }
  return info;
}

function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
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

function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo | tf.TensorInfo[] {
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
  const co = dy.shape[3];
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;

  // dyZ has oh*sh rows (the last sh-1 of them zero); pad or crop it to give exactly h x w rows.
  const padTop = kh - 1 - top;
  const padLeft = kw - 1 - left;
  const padBottom = h + top - oh * sh;
  const padRight = w + left - ow * sw;

  const ops = new WasmOps(args.backend as tf.KernelBackend);
  try {
    let dyZ = dy;
    if (sh > 1 || sw > 1) {
      const grid = ops.run('Reshape', { x: dy }, { shape: [n, oh, 1, ow, 1, co] });
      const spread = ops.run('PadV2', { x: grid }, {
        paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
        constantValue: 0,
      });
      dyZ = ops.run('Reshape', { x: spread }, { shape: [n, oh * sh, ow * sw, co] });
    }
    if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
      const begin = [0, Math.max(-padTop, 0), Math.max(-padLeft, 0), 0];
      const size = [
        n,
        oh * sh + Math.min(padTop, 0) + Math.min(padBottom, 0),
        ow * sw + Math.min(padLeft, 0) + Math.min(padRight, 0),
        co,
      ];
      dyZ = ops.run('Slice', { x: dyZ }, { begin, size });
    }
    const flipped = ops.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = ops.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh,kw,co,ci]
    return ops.result(
      'Conv2D',
      { x: dyZ, filter: swapped },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [Math.max(padTop, 0), Math.max(padBottom, 0)],
          [Math.max(padLeft, 0), Math.max(padRight, 0)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
  } finally {
    ops.free();
  }
}

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
 * Registers Conv2DBackpropFilter for wasm (unless the installed wasm backend has one) and replaces
 * wasm's Conv2DBackpropInput with the fast version. Safe to call more than once.
 */
export function registerWasmKernels(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, BACKEND) === undefined) {
    tf.registerKernel(conv2DBackpropFilterWasmConfig);
  }
  const current = tf.getKernel(tf.Conv2DBackpropInput, BACKEND);
  if (current?.kernelFunc !== conv2DBackpropInput) {
    loopConv2DBackpropInput = current?.kernelFunc;
    if (current !== undefined) tf.unregisterKernel(tf.Conv2DBackpropInput, BACKEND);
    // Keep the original setupFunc: it binds the wasm function that the NCHW fallback calls.
    tf.registerKernel({ ...conv2DBackpropInputWasmConfig, setupFunc: current?.setupFunc });
  }
}
