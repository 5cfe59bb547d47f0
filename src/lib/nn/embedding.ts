import { tf } from '../backend/tf';
import { Rng } from '../random';
import { gelu, Linear } from './layers';
import { Module } from './module';

/**
 * Conditioning vectors of the cascade UNets: sinusoidal features of a scalar (the timestep, or
 * stage II's augmentation level) through a small MLP, as in DDPM and DeepFloyd IF.
 */

/**
 * Sinusoidal features of one value per row, [n, dim]: the first half sin(v w_i), the second
 * cos(v w_i), w_i = 10000^(-i / (dim/2)) (Transformer / DDPM). Computed on the CPU in float64.
 */
export function sinusoidalFeatures(values: ArrayLike<number>, dim: number): Float32Array {
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) throw new Error(`sinusoidalFeatures: dim must be an even integer >= 2, got ${dim}`);
  const half = dim / 2;
  const out = new Float32Array(values.length * dim);
  for (let n = 0; n < values.length; n++) {
    for (let i = 0; i < half; i++) {
      const a = values[n] * Math.exp((-Math.log(10000) * i) / half);
      out[n * dim + i] = Math.sin(a);
      out[n * dim + half + i] = Math.cos(a);
    }
  }
  return out;
}

/** Sinusoidal features -> Linear -> GELU -> Linear: a learned embedding of a scalar, [n, outDim]. */
export class ScalarEmbedding extends Module {
  private readonly fc1: Linear;
  private readonly fc2: Linear;

  constructor(
    rng: Rng,
    readonly featureDim: number,
    readonly outDim: number,
  ) {
    super();
    this.fc1 = this.addChild('fc1', new Linear(rng, featureDim, outDim));
    this.fc2 = this.addChild('fc2', new Linear(rng, outDim, outDim));
  }

  forward(values: ArrayLike<number>): tf.Tensor2D {
    const features = tf.tensor2d(sinusoidalFeatures(values, this.featureDim), [values.length, this.featureDim]);
    return this.fc2.forward(gelu(this.fc1.forward(features)));
  }
}
