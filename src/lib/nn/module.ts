import { requireBackend, tf } from '../backend/tf';
import { Rng } from '../random';

/**
 * What a parameter or buffer is, which fixes how it maps to another framework's layout
 * (io/torch-layout.ts): a Conv2d weight is HWIO here, a ConvTranspose2d weight [kh, kw, out, in],
 * a Linear weight [in, out]; biases and BatchNorm tensors are vectors everywhere; 'same-layout' is
 * a tensor held as PyTorch holds its nn.Parameter (an embedding table [vocab, dim], positions, a
 * learned query). 'unspecified' is a tensor whose layer declared nothing: converters refuse it
 * unless it is a vector.
 */
export type TensorRole = 'conv2d-weight' | 'conv-transpose2d-weight' | 'linear-weight' | 'bias' | 'batchnorm' | 'same-layout' | 'unspecified';

/**
 * A minimal PyTorch-like module: named trainable parameters, named buffers (BatchNorm running
 * statistics) and named children. Names are dotted paths ("down1.conv.weight") and are the keys
 * of checkpoints, so a model's state is plain data.
 */
export abstract class Module {
  constructor() {
    requireBackend(`new ${new.target.name}()`);
  }

  private readonly ownParams = new Map<string, tf.Variable>();
  private readonly ownBuffers = new Map<string, tf.Variable>();
  private readonly ownRoles = new Map<string, TensorRole>();
  private readonly children = new Map<string, Module>();

  protected addParam(name: string, value: tf.Tensor, role: TensorRole = 'unspecified'): tf.Variable {
    const v = tf.variable(value, true);
    value.dispose();
    this.ownParams.set(name, v);
    this.ownRoles.set(name, role);
    return v;
  }

  protected addBuffer(name: string, value: tf.Tensor, role: TensorRole = 'unspecified'): tf.Variable {
    const v = tf.variable(value, false);
    value.dispose();
    this.ownBuffers.set(name, v);
    this.ownRoles.set(name, role);
    return v;
  }

  protected addChild<M extends Module>(name: string, child: M): M {
    this.children.set(name, child);
    return child;
  }

  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [n, v] of this.ownParams) out.push([prefix + n, v]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [n, v] of this.ownBuffers) out.push([prefix + n, v]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** Number of trainable scalars (BatchNorm affine included, running statistics not). */
  parameterCount(): number {
    return this.parameters().reduce((s, v) => s + v.size, 0);
  }

  /** Every parameter and buffer by name, the content of a model checkpoint. */
  stateEntries(): Array<[string, tf.Variable]> {
    return [...this.namedParameters(), ...this.namedBuffers()];
  }

  /** What each parameter and buffer is (see TensorRole), by the names of stateEntries. */
  stateRoles(prefix = ''): Map<string, TensorRole> {
    const out = new Map<string, TensorRole>();
    for (const [n, role] of this.ownRoles) out.set(prefix + n, role);
    for (const [n, c] of this.children) for (const [name, role] of c.stateRoles(`${prefix}${n}.`)) out.set(name, role);
    return out;
  }

  /** Loads named values into this model; every name must be present with the right shape. */
  loadState(values: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source = 'checkpoint'): void {
    const entries = this.stateEntries();
    const missing = entries.filter(([n]) => !values.has(n)).map(([n]) => n);
    if (missing.length > 0) {
      throw new Error(
        `${source} does not match this model: ${missing.length} tensor(s) missing, e.g. ${missing.slice(0, 3).join(', ')}. ` +
          'Was it saved from a model with another architecture or width (D)? Load it into the model it was trained with.',
      );
    }
    for (const [name, variable] of entries) {
      const v = values.get(name)!;
      if (v.shape.length !== variable.shape.length || v.shape.some((d, i) => d !== variable.shape[i])) {
        throw new Error(
          `${source}: tensor "${name}" has shape [${v.shape.join(', ')}] but the model expects [${variable.shape.join(', ')}]. ` +
            'The checkpoint was saved from a model of another size; check the hidden width D and the conditioning.',
        );
      }
      const bad = v.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        throw new Error(
          `${source}: tensor "${name}" holds ${v.data[bad]} (at index ${bad}): the weights are corrupt or come from a diverged run; ` +
            'use an earlier epoch (--epoch) or train again.',
        );
      }
      tf.tidy(() => variable.assign(tf.tensor(v.data, variable.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const [, v] of this.stateEntries()) v.dispose();
  }
}

/** PyTorch's default initialisation for conv and linear layers: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function uniformInit(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rng.uniform() * 2 - 1) * bound;
  return tf.tensor(data, shape, 'float32');
}

/** Per-forward context: training mode and a place to collect BatchNorm batch statistics. */
export interface ForwardContext {
  training: boolean;
  /** Filled in training mode; the trainer folds them into the running statistics after the step. */
  batchStats?: BatchStat[];
}

export interface BatchStat {
  mean: tf.Variable;
  variance: tf.Variable;
  batchMean: tf.Tensor;
  batchVariance: tf.Tensor;
  count: number;
}
