import { tf } from '../backend/tf';
import { ADAM_UPDATE, fusedKernelsActive, registerFusedKernels } from '../backend/fused-kernels';

registerFusedKernels();

export interface AdamConfig {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * Adam with PyTorch's update rule (bias-corrected moments, eps added after the square root).
 * Written out rather than using tf.train.adam so its whole state is named tensors that go into
 * a checkpoint and come back exactly.
 */
export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Number of updates applied so far. */
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: ReadonlyArray<[string, tf.Variable]>,
    config: AdamConfig,
  ) {
    this.lr = config.lr;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.eps = config.eps ?? 1e-8;
    for (const [name, p] of params) {
      // Inside tidy: the zeros tensors themselves are released; the variables are kept.
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  /** Applies one update; `grads` maps parameter names to gradients (not disposed here). */
  apply(grads: ReadonlyMap<string, tf.Tensor>): void {
    this.step += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    const stepSize = this.lr / c1;
    const fused = fusedKernelsActive();
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) throw new Error(`Adam: no gradient for parameter "${name}"`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      if (fused) {
        // One pass per tensor on wasm/cpu (fused-kernels.ts); the same arithmetic as below.
        const attrs = { beta1: b1, beta2: b2, eps: this.eps, stepSize, biasCorrection2: c2 };
        const out = tf.engine().runKernel(ADAM_UPDATE, { param: p, m, v, grad: g }, attrs) as tf.Tensor[];
        p.assign(out[0]);
        m.assign(out[1]);
        v.assign(out[2]);
        for (const t of out) t.dispose();
        continue;
      }
      tf.tidy(() => {
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        const denom = tf.add(tf.sqrt(tf.div(vNew, c2)), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(mNew, denom), stepSize)));
        m.assign(mNew);
        v.assign(vNew);
      });
    }
  }

  /** The optimiser state as named tensors ("adam.m.<param>", "adam.v.<param>"). */
  stateEntries(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [name] of this.params) {
      out.push([`adam.m.${name}`, this.m.get(name)!], [`adam.v.${name}`, this.v.get(name)!]);
    }
    return out;
  }

  loadState(values: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, step: number, source: string): void {
    for (const [name, variable] of this.stateEntries()) {
      const v = values.get(name);
      if (!v) throw new Error(`${source} has no optimiser state "${name}": it is not a training checkpoint of this model.`);
      if (v.data.length !== variable.size) {
        throw new Error(`${source}: optimiser state "${name}" has ${v.data.length} values, expected ${variable.size}.`);
      }
      const bad = v.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        throw new Error(
          `${source}: optimiser state "${name}" holds ${v.data[bad]} (at index ${bad}), which no finished step writes: the file is damaged. ` +
            'Delete it to train the run again from the start, or train in a new run folder.',
        );
      }
      tf.tidy(() => variable.assign(tf.tensor(v.data, variable.shape, 'float32')));
    }
    this.step = step;
  }

  dispose(): void {
    for (const [, v] of this.stateEntries()) v.dispose();
  }
}

/**
 * One Adam step on a scalar loss of `params` (a model's namedParameters()): computes the
 * gradients, applies the update, frees the tensors, and returns the loss value.
 */
export function adamStep(optimizer: Adam, params: ReadonlyArray<[string, tf.Variable]>, loss: () => tf.Scalar): number {
  const { value, grads } = tf.variableGrads(
    loss,
    params.map(([, v]) => v),
  );
  const named = new Map(params.map(([n, v]) => [n, grads[v.name]] as [string, tf.Tensor]));
  optimizer.apply(named);
  const result = value.dataSync()[0];
  value.dispose();
  for (const g of named.values()) g.dispose();
  return result;
}
