// Plain-JS (float64) versions of SPEC Part A's formulas, written straight from SPEC, to check the
// tensor code against.
import { Rng } from '../../src/lib/random';
import { NoiseSchedule } from '../../src/lib/noise-schedules';
import { FakeModel } from './fake-model';

export function refForward(x0: ArrayLike<number>, eps: ArrayLike<number>, abar: number): number[] {
  return Array.from(x0, (v, i) => Math.sqrt(abar) * v + Math.sqrt(1 - abar) * eps[i]);
}

/** SPEC 1.4 from t to t' with noise z and optional learned variance values v. */
export function refStep(
  s: NoiseSchedule,
  t: number,
  tp: number,
  x: ArrayLike<number>,
  eps: ArrayLike<number>,
  z: ArrayLike<number>,
  v?: ArrayLike<number>,
): number[] {
  const at = s.alphasCumprod[t];
  const ap = s.alphasCumprod[tp];
  const alpha = at / ap;
  const beta = 1 - alpha;
  const variance = Math.max(((1 - ap) / (1 - at)) * beta, 1e-20);
  return Array.from(x, (xt, i) => {
    const x0 = (xt - Math.sqrt(1 - at) * eps[i]) / Math.sqrt(at);
    let std = Math.sqrt(variance);
    if (v) {
      const frac = (v[i] + 1) / 2;
      std = Math.exp(0.5 * (frac * Math.log(beta) + (1 - frac) * Math.log(variance)));
    }
    return ((Math.sqrt(ap) * beta) / (1 - at)) * x0 + ((Math.sqrt(alpha) * (1 - ap)) / (1 - at)) * xt + std * z[i];
  });
}

/** The fake model's eps and v for one batch in NHWC order; promptValues[b] is the prompt's first value. */
export function refModel(m: FakeModel, x: ArrayLike<number>, batch: number, t: number, promptValues: number[]): { eps: number[]; v: number[] } {
  const h = m.imageSize;
  const per = h * h * m.channels;
  const eps: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < batch * per; i++) {
    const b = Math.floor(i / per);
    const row = Math.floor((i % per) / (h * m.channels));
    eps.push(m.epsAt(x[i], promptValues[b], row, t));
    v.push(m.varAt(row));
  }
  return { eps, v };
}

export function refCfg(
  m: FakeModel,
  x: ArrayLike<number>,
  batch: number,
  t: number,
  cond: number[],
  uncond: number,
  gamma: number,
): { eps: number[]; v: number[] } {
  const c = refModel(m, x, batch, t, cond);
  const u = refModel(
    m,
    x,
    batch,
    t,
    cond.map(() => uncond),
  );
  return { eps: c.eps.map((e, i) => u.eps[i] + gamma * (e - u.eps[i])), v: c.v };
}

/** Same seed, same draws: the loop draws one normal per value for z after each model call. */
export function draw(rng: Rng, n: number): number[] {
  return Array.from(rng.normalArray(n));
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4, what = 'value'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`${what} ${i}: got ${actual[i]}, expected ${expected[i]} (difference ${d})`);
    }
  }
}
