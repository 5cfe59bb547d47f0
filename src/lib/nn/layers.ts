import { tf } from '../backend/tf';
import { batchNormTrain, channelAffine, gelu as fusedGelu } from '../backend/fused-ops';
import { Rng } from '../random';
import { ForwardContext, Module, uniformInit } from './module';

/**
 * The basic layers, with PyTorch's semantics (padding, initialisation, BatchNorm momentum) in
 * TensorFlow.js's NHWC layout. Conv weights are HWIO; transposed-conv weights are [kh, kw, out, in].
 */

type Padding4 = [[number, number], [number, number], [number, number], [number, number]];

function symmetricPadding(p: number): Padding4 {
  return [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
}

/** Conv2d(in, out, k, stride, padding) with bias. */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    rng: Rng,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly stride = 1,
    readonly padding = 0,
  ) {
    super();
    const fanIn = inChannels * kernelSize * kernelSize;
    this.weight = this.addParam('weight', uniformInit(rng, [kernelSize, kernelSize, inChannels, outChannels], fanIn), 'conv2d-weight');
    this.bias = this.addParam('bias', uniformInit(rng, [outChannels], fanIn), 'bias');
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const pad = this.padding === 0 ? 'valid' : symmetricPadding(this.padding);
    // The fused op adds the bias inside the convolution (XNNPACK on wasm): no separate Add pass.
    return tf.fused.conv2d({ x, filter: this.weight as tf.Tensor4D, strides: this.stride, pad, bias: this.bias });
  }
}

/** ConvTranspose2d(in, out, k, stride, padding): output size (H - 1) * stride - 2 * padding + k. */
export class ConvTranspose2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    rng: Rng,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly stride = 1,
    readonly padding = 0,
  ) {
    super();
    // PyTorch computes fan-in from weight dim 1 (= out channels) for transposed convs.
    const fanIn = outChannels * kernelSize * kernelSize;
    this.weight = this.addParam('weight', uniformInit(rng, [kernelSize, kernelSize, outChannels, inChannels], fanIn), 'conv-transpose2d-weight');
    this.bias = this.addParam('bias', uniformInit(rng, [outChannels], fanIn), 'bias');
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w] = x.shape;
    const k = this.kernelSize;
    if (h === 1 && w === 1 && this.padding === 0 && this.stride === k) {
      // 1x1 -> kxk is a single matrix product: out[n,i,j,o] = sum_c x[n,c] W[i,j,o,c].
      const flat = tf.reshape(x, [n, this.inChannels]);
      const wMat = tf.reshape(this.weight, [k * k * this.outChannels, this.inChannels]);
      const y = tf.reshape(tf.matMul(flat, wMat, false, true), [n, k, k, this.outChannels]);
      return tf.add(y, this.bias);
    }
    const outH = (h - 1) * this.stride - 2 * this.padding + k;
    const outW = (w - 1) * this.stride - 2 * this.padding + k;
    const pad = this.padding === 0 ? 'valid' : this.padding;
    const y = tf.conv2dTranspose(x, this.weight as tf.Tensor4D, [n, outH, outW, this.outChannels], this.stride, pad);
    return tf.add(y, this.bias);
  }
}

/** Linear(in, out): y = x W + b, W stored [in, out]. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    rng: Rng,
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    super();
    this.weight = this.addParam('weight', uniformInit(rng, [inFeatures, outFeatures], inFeatures), 'linear-weight');
    this.bias = this.addParam('bias', uniformInit(rng, [outFeatures], inFeatures), 'bias');
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight as tf.Tensor2D), this.bias);
  }
}

/**
 * BatchNorm2d over the channel axis of NHWC, PyTorch defaults (eps 1e-5, momentum 0.1, affine).
 * Not tf.batchNorm, whose gradient is slow on wasm: fused kernels with a closed-form gradient.
 */
export class BatchNorm2d extends Module {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  static readonly eps = 1e-5;
  static readonly momentum = 0.1;

  constructor(readonly channels: number) {
    super();
    this.gamma = this.addParam('weight', tf.ones([channels]), 'batchnorm');
    this.beta = this.addParam('bias', tf.zeros([channels]), 'batchnorm');
    this.runningMean = this.addBuffer('running_mean', tf.zeros([channels]), 'batchnorm');
    this.runningVar = this.addBuffer('running_var', tf.ones([channels]), 'batchnorm');
  }

  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    if (ctx.training) {
      // Batch statistics; on wasm and cpu one fused kernel each way (backend/fused-ops.ts).
      const { y, mean, variance } = batchNormTrain(x, this.gamma, this.beta, BatchNorm2d.eps);
      if (ctx.batchStats) {
        const [n, h, w] = x.shape;
        ctx.batchStats.push({
          mean: this.runningMean,
          variance: this.runningVar,
          batchMean: tf.keep(mean),
          batchVariance: tf.keep(variance),
          count: n * h * w,
        });
      }
      return y;
    }
    const scale = tf.mul(tf.rsqrt(tf.add(this.runningVar, BatchNorm2d.eps)), this.gamma);
    const shift = tf.sub(this.beta, tf.mul(this.runningMean, scale));
    return channelAffine(x, scale, shift);
  }
}

/**
 * Folds collected batch statistics into the running statistics (PyTorch: unbiased variance),
 * in order. Computed in JavaScript with float32 rounding after every operation, as tf ops would:
 * these vectors are short, and two dozen small kernel calls per layer cost more than the work.
 */
export function updateRunningStats(stats: NonNullable<ForwardContext['batchStats']>): void {
  const f32 = Math.fround;
  const m = f32(BatchNorm2d.momentum);
  const keep = f32(1 - BatchNorm2d.momentum);
  for (const s of stats) {
    const mean = s.mean.dataSync();
    const variance = s.variance.dataSync();
    const batchMean = s.batchMean.dataSync();
    const batchVariance = s.batchVariance.dataSync();
    const correction = f32(s.count / Math.max(1, s.count - 1));
    const newMean = new Float32Array(mean.length);
    const newVariance = new Float32Array(mean.length);
    for (let i = 0; i < mean.length; i++) {
      newMean[i] = f32(mean[i] * keep) + f32(batchMean[i] * m);
      newVariance[i] = f32(variance[i] * keep) + f32(f32(batchVariance[i] * correction) * m);
    }
    tf.tidy(() => {
      s.mean.assign(tf.tensor1d(newMean));
      s.variance.assign(tf.tensor1d(newVariance));
    });
    s.batchMean.dispose();
    s.batchVariance.dispose();
  }
  stats.length = 0;
}

/** GELU, exact (erf) form as PyTorch's nn.GELU() (fused kernels on wasm and cpu: backend/fused-ops.ts). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return fusedGelu(x);
}
