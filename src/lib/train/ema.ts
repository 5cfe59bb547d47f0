import { tf } from '../backend/tf';

/**
 * An exponential moving average of a model's parameters, the weights a diffusion model samples
 * with (as diffusers' EMAModel): after every optimiser step
 *   ema <- d ema + (1 - d) param,  d = min(decay, (1 + n) / (10 + n)),
 * where n counts the updates, so the average forgets the random initialisation within the
 * first few hundred steps of a short run instead of the ~1/(1 - decay) steps a fixed decay needs.
 * Only parameters are averaged; buffers (BatchNorm running statistics) come from the live model.
 */
export class ParameterEma {
  /** Number of updates applied so far. */
  updates = 0;
  private readonly shadow = new Map<string, tf.Variable>();

  constructor(
    private readonly params: ReadonlyArray<[string, tf.Variable]>,
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`EMA decay must be in (0, 1), got ${decay}`);
    for (const [name, p] of params)
      this.shadow.set(
        name,
        tf.tidy(() => tf.variable(p.clone(), false)),
      );
  }

  /** The decay used at the next update. */
  currentDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /** Folds the current parameters into the average. */
  update(): void {
    const d = this.currentDecay();
    this.updates += 1;
    for (const [name, p] of this.params) {
      const s = this.shadow.get(name)!;
      tf.tidy(() => s.assign(tf.add(tf.mul(s, d), tf.mul(p, 1 - d))));
    }
  }

  /** The averaged parameters under the parameters' own names (for a weights file). */
  averagedEntries(): Array<[string, tf.Variable]> {
    return this.params.map(([name]) => [name, this.shadow.get(name)!]);
  }

  /** The average as training-checkpoint entries ("ema.<param>"). */
  stateEntries(): Array<[string, tf.Variable]> {
    return this.params.map(([name]) => [`ema.${name}`, this.shadow.get(name)!]);
  }

  loadState(values: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, updates: number, source: string): void {
    for (const [name, variable] of this.stateEntries()) {
      const v = values.get(name);
      if (!v) throw new Error(`${source} has no EMA weights "${name}": it was written by a run without EMA; train again in a new run folder.`);
      if (v.data.length !== variable.size) throw new Error(`${source}: EMA weights "${name}" have ${v.data.length} values, expected ${variable.size}.`);
      tf.tidy(() => variable.assign(tf.tensor(v.data, variable.shape, 'float32')));
    }
    this.updates = updates;
  }

  dispose(): void {
    for (const v of this.shadow.values()) v.dispose();
  }
}
