import { tf } from '../../backend/tf';
import { Activation } from './config';

/**
 * Stateless building blocks of the IF UNet in NHWC. Weights come already in TF layouts:
 * linear weights [in, out], conv weights [kh, kw, in, out] (HWIO).
 */

/** x [..., in] @ w [in, out] + b. */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor {
  const inF = w.shape[0];
  const outShape = [...x.shape.slice(0, -1), w.shape[1]];
  const y = tf.fused.matMul({ a: tf.reshape(x, [-1, inF]) as tf.Tensor2D, b: w, bias: b });
  return tf.reshape(y, outShape);
}

/** Same-padded, stride-1 convolution with bias (odd kernels, as PyTorch's padding (k-1)/2). */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b });
}

/**
 * GroupNorm over the channel (last) axis: the channels split into `groups` contiguous groups,
 * each normalised over its channels and every position, then scaled and shifted per channel.
 * Works for [B, H, W, C] and for token sequences [B, N, C] alike.
 */
export function groupNorm(x: tf.Tensor, groups: number, eps: number, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor {
  const shape = x.shape;
  const c = shape[shape.length - 1];
  const b = shape[0];
  const grouped = tf.reshape(x, [b, -1, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 3], true);
  const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.reshape(normed, shape), gamma), beta);
}

/** LayerNorm over the last axis (PyTorch's nn.LayerNorm, biased variance). */
export function layerNorm(x: tf.Tensor, eps: number, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor {
  const { mean, variance } = tf.moments(x, [x.rank - 1], true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** GELU, exact erf form (PyTorch's nn.GELU()). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T;
}

export function activation<T extends tf.Tensor>(kind: Activation, x: T): T {
  return kind === 'gelu' ? gelu(x) : (tf.mul(x, tf.sigmoid(x)) as T);
}

/**
 * Sinusoidal timestep features as diffusers' get_timestep_embedding (max period 10000), with
 * every step rounded to float32 as PyTorch computes it: freq_i = exp(-ln(10000) i / (half - shift)),
 * features [sin(t freq), cos(t freq)], swapped to [cos, sin] when flipSinToCos.
 */
export function timestepFeatures(timesteps: number[], dim: number, flipSinToCos: boolean, shift: number): tf.Tensor2D {
  const half = Math.floor(dim / 2);
  const f = Math.fround;
  const logPeriod = f(-Math.log(10000));
  const denom = f(half - shift);
  const out = new Float32Array(timesteps.length * dim);
  timesteps.forEach((t, row) => {
    for (let i = 0; i < half; i++) {
      const freq = f(Math.exp(f(f(logPeriod * i) / denom)));
      const arg = f(f(t) * freq);
      const sin = Math.sin(arg);
      const cos = Math.cos(arg);
      out[row * dim + i] = flipSinToCos ? cos : sin;
      out[row * dim + half + i] = flipSinToCos ? sin : cos;
    }
    // An odd dim gets a zero last column (left as 0).
  });
  return tf.tensor2d(out, [timesteps.length, dim]);
}

/** [B, N, heads * d] -> [B, heads, N, d]. */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [b, n, inner] = x.shape;
  return tf.transpose(tf.reshape(x, [b, n, heads, inner / heads]), [0, 2, 1, 3]);
}

/** [B, heads, N, d] -> [B, N, heads * d]. */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor3D {
  const [b, h, n, d] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, n, h * d]);
}

/** softmax(q k^T * scale) v over the last two axes of [B, heads, N, d] tensors. */
export function attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, scale: number): tf.Tensor4D {
  const scores = tf.mul(tf.matMul(q, k, false, true), scale);
  return tf.matMul(tf.softmax(scores), v) as tf.Tensor4D;
}

/** 2x2 average pooling, stride 2 (diffusers' Downsample2D without a conv). */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 2, 2, 'valid');
}

/** 2x nearest-neighbour upsampling (F.interpolate(scale_factor=2, mode="nearest")). */
export function upsampleNearest2(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const tiled = tf.tile(tf.reshape(x, [b, h, 1, w, 1, c]), [1, 1, 2, 1, 2, 1]);
  return tf.reshape(tiled, [b, 2 * h, 2 * w, c]);
}
