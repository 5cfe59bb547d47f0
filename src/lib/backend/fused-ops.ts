// GELU and BatchNorm as ops with custom gradients over the fused kernels (fused-kernels.ts) on
// the wasm and cpu backends, and as plain tf ops (autodiff) on any other backend, where native
// TensorFlow fuses or vectorises them itself. DIFFUSION_FUSED_KERNELS=0 forces the plain ops
// (for comparisons).
import { tf } from './tf';
import { BATCH_NORM_GRAD, CHANNEL_AFFINE, CHANNEL_MOMENTS, fusedKernelsActive, GELU, GELU_GRAD, registerFusedKernels } from './fused-kernels';

registerFusedKernels();

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** tf.customGrad with the inputs as an array (its own signature mixes inputs and `save`). */
function customGrad(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradFunc }) {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  });
  return (...inputs: tf.Tensor[]): tf.Tensor => op(...inputs);
}

function useFused(x: tf.Tensor): boolean {
  return x.dtype === 'float32' && x.size > 0 && fusedKernelsActive();
}

/** GELU, exact (erf) form, from tf ops: the reference the fused version is tested against. */
export function geluReference<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T;
}

const fusedGelu = customGrad(([x], save) => {
  save([x]);
  return {
    value: tf.engine().runKernel(GELU, { x }) as tf.Tensor,
    gradFunc: (dy, saved) => tf.engine().runKernel(GELU_GRAD, { x: saved[0], dy }) as tf.Tensor,
  };
});

/** GELU, exact (erf) form as PyTorch's nn.GELU(). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return (useFused(x) ? fusedGelu(x) : geluReference(x)) as T;
}

export interface BatchNormResult<T extends tf.Tensor> {
  y: T;
  /** Batch mean per channel (last axis). */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel. */
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch normalisation over all axes but the last, from tf ops: the reference.
 * y = (x - mean) / sqrt(variance + eps) * gamma + beta with the batch's own statistics.
 */
export function batchNormTrainReference<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): BatchNormResult<T> {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const scale = tf.mul(tf.rsqrt(tf.add(variance, eps)), gamma);
  const shift = tf.sub(beta, tf.mul(mean, scale));
  return { y: tf.add(tf.mul(x, scale), shift) as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Training-mode batch normalisation (see the reference), with the closed-form gradient. */
export function batchNormTrain<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): BatchNormResult<T> {
  if (!useFused(x)) return batchNormTrainReference(x, gamma, beta, eps);
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = customGrad(([xIn, g, b], save) => {
    const [mean, variance] = tf.engine().runKernel(CHANNEL_MOMENTS, { x: xIn }) as tf.Tensor1D[];
    // The forward function runs inside a tidy: keep the statistics past it (released below).
    stats = [tf.keep(mean), tf.keep(variance)];
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const scale = tf.mul(invStd, g);
    const shift = tf.sub(b, tf.mul(mean, scale));
    save([xIn, mean, invStd, g]);
    return {
      value: tf.engine().runKernel(CHANNEL_AFFINE, { x: xIn, scale, shift }) as tf.Tensor,
      gradFunc: (dy, [xs, m, inv, gs]) => tf.engine().runKernel(BATCH_NORM_GRAD, { x: xs, dy, mean: m, invStd: inv, gamma: gs }) as tf.Tensor[],
    };
  });
  const y = op(x, gamma, beta) as T;
  // Clones share the data and belong to the caller's scope, like any op's output.
  const [mean, variance] = stats!.map((t) => {
    const c = tf.clone(t);
    t.dispose();
    return c;
  });
  return { y, mean, variance };
}

/** y = x * scale + shift with per-channel (last axis) scale and shift; differentiable. */
export function channelAffine<T extends tf.Tensor>(x: T, scale: tf.Tensor, shift: tf.Tensor): T {
  if (!useFused(x)) return tf.add(tf.mul(x, scale), shift) as T;
  const op = customGrad(([xIn, s, b], save) => {
    save([xIn, s]);
    return {
      value: tf.engine().runKernel(CHANNEL_AFFINE, { x: xIn, scale: s, shift: b }) as tf.Tensor,
      gradFunc: (dy, [xs, ss]) => {
        const axes = xs.shape.slice(0, -1).map((_, i) => i);
        return [tf.mul(dy, ss), tf.sum(tf.mul(dy, xs), axes), tf.sum(dy, axes)];
      },
    };
  });
  return op(x, scale, shift) as T;
}
