import { tf } from '../../src/lib/backend/tf';
import { DiffusionModel, ModelOutput, PromptDictionary } from '../../src/lib/pretrained/model';
import { NoiseSchedule, cosineSchedule } from '../../src/lib/noise-schedules';

/**
 * A stand-in model whose output is a known formula, so every pipeline can be checked by hand:
 *   eps[b, y, x, c] = a * x_t[b, y, x, c] + prompt[b, 0] + rowWeight * y / (H - 1) + tWeight * t / 1000
 *   v[b, y, x, c]   = varBase + varRow * y / (H - 1)        (only when learnedVariance)
 * With rowWeight = varRow = 0 the model is the same at every pixel (commutes with any view).
 */
export interface FakeModelOptions {
  size?: number;
  channels?: number;
  a?: number;
  rowWeight?: number;
  tWeight?: number;
  learnedVariance?: boolean;
  varBase?: number;
  varRow?: number;
}

export class FakeModel implements DiffusionModel {
  readonly name = 'fake';
  readonly imageSize: number;
  readonly channels: number;
  readonly schedule: NoiseSchedule = cosineSchedule(1000);
  readonly learnedVariance: boolean;
  readonly a: number;
  readonly rowWeight: number;
  readonly tWeight: number;
  readonly varBase: number;
  readonly varRow: number;
  /** Every call's batch size and timestep. */
  readonly calls: Array<{ batch: number; t: number }> = [];

  constructor(o: FakeModelOptions = {}) {
    this.imageSize = o.size ?? 4;
    this.channels = o.channels ?? 1;
    this.a = o.a ?? 0.5;
    this.rowWeight = o.rowWeight ?? 0;
    this.tWeight = o.tWeight ?? 0;
    this.learnedVariance = o.learnedVariance ?? false;
    this.varBase = o.varBase ?? 0.2;
    this.varRow = o.varRow ?? 0;
  }

  /** The formula in plain JS for one value (the hand-computed reference). */
  epsAt(x: number, promptValue: number, row: number, t: number): number {
    return this.a * x + promptValue + (this.rowWeight * row) / (this.imageSize - 1) + (this.tWeight * t) / 1000;
  }

  varAt(row: number): number {
    return this.varBase + (this.varRow * row) / (this.imageSize - 1);
  }

  predict(xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D): ModelOutput {
    const [b, h, w, c] = xt.shape;
    this.calls.push({ batch: b, t });
    const [eps, varValue] = tf.tidy(() => {
      const p = tf.reshape(tf.slice(prompt, [0, 0], [prompt.shape[0], 1]), [prompt.shape[0], 1, 1, 1]);
      const rows = tf.reshape(tf.linspace(0, 1, h), [1, h, 1, 1]);
      const e = tf.add(tf.add(tf.mul(xt, this.a), p), tf.add(tf.mul(rows, this.rowWeight), (this.tWeight * t) / 1000));
      const out: tf.Tensor4D[] = [tf.broadcastTo(e, [b, h, w, c])];
      if (this.learnedVariance) out.push(tf.broadcastTo(tf.add(tf.mul(rows, this.varRow), this.varBase), [b, h, w, c]));
      return out;
    });
    return varValue ? { eps, varValue } : { eps };
  }
}

/** Prompts whose embedding's first value is what the fake model adds to eps. */
export function fakePrompts(): PromptDictionary {
  return new PromptDictionary(
    new Map([
      ['', Float32Array.from([0, 9])],
      ['a high quality photo', Float32Array.from([0.1, 9])],
      ['a handwritten 2', Float32Array.from([0.3, 9])],
      ['a handwritten 5', Float32Array.from([-0.2, 9])],
    ]),
    2,
  );
}
