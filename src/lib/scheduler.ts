import { tf } from './backend/tf';
import { NoiseSchedule } from './noise-schedules';

/**
 * The diffusion maths of SPEC, written once (in the manner of diffusers' DDPMScheduler): the
 * forward process, the clean-image estimate, one denoising step with its variance, classifier-free
 * guidance, v-prediction and the timestep lists. Part A's pipelines, Part B's training and Part B's
 * sampling all call these; docs/formulas.md maps each SPEC formula to its function here.
 *
 * Timesteps index a schedule's arrays directly, in the schedule's own convention
 * (NoiseSchedule.indexing): Part B's 'ddpm' schedule has t = 0..T with abar_0 = 1 (the clean
 * image), noise levels 1..T; Part A's 'diffusers' schedule has t = 0..T-1, all noise levels.
 * Scalars are computed in double precision and applied to float32 tensors.
 */

/** The timesteps that are noise levels: what training draws from and sampling starts at. */
export function noiseLevels(schedule: Pick<NoiseSchedule, 'indexing' | 'T'>): { first: number; last: number } {
  return schedule.indexing === 'ddpm' ? { first: 1, last: schedule.T } : { first: 0, last: schedule.T - 1 };
}

/** Checks that t is an integer timestep of the schedule. */
export function checkTimestep(t: number, schedule: NoiseSchedule): void {
  const last = schedule.alphasCumprod.length - 1;
  if (!Number.isInteger(t) || t < 0 || t > last) throw new Error(`Timestep ${t} is out of range: use an integer from 0 to ${last}`);
}

/** One abar_t per image, as a [n, 1, 1, 1] factor pair (sqrt(abar), sqrt(1 - abar)) to broadcast. */
function perImage(abar: ArrayLike<number>): [tf.Tensor4D, tf.Tensor4D] {
  const n = abar.length;
  const a = Float32Array.from({ length: n }, (_, i) => Math.sqrt(abar[i]));
  const b = Float32Array.from({ length: n }, (_, i) => Math.sqrt(1 - abar[i]));
  return [tf.tensor4d(a, [n, 1, 1, 1]), tf.tensor4d(b, [n, 1, 1, 1])];
}

/** abar_t for every image: one timestep for the batch, or one per image. */
function abarOf(schedule: NoiseSchedule, t: number | ArrayLike<number>, n: number): Float32Array {
  const ts = typeof t === 'number' ? new Array<number>(n).fill(t) : t;
  if (ts.length !== n) throw new Error(`${n} images but ${ts.length} timesteps: give one timestep, or one per image`);
  return Float32Array.from({ length: n }, (_, i) => {
    checkTimestep(ts[i], schedule);
    return schedule.alphasCumprod[ts[i]];
  });
}

/**
 * SPEC 1.1 / B2, the forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, with one
 * timestep for the batch or one per image (training). Works inside tf.tidy; the caller owns the result.
 */
export function addNoise(x0: tf.Tensor4D, eps: tf.Tensor4D, t: number | ArrayLike<number>, schedule: NoiseSchedule): tf.Tensor4D {
  if (eps.shape.join() !== x0.shape.join()) {
    throw new Error(`addNoise: noise shape [${eps.shape.join(', ')}] differs from image shape [${x0.shape.join(', ')}]`);
  }
  const abar = abarOf(schedule, t, x0.shape[0]);
  return tf.tidy(() => {
    const [a, b] = perImage(abar);
    return tf.add(tf.mul(x0, a), tf.mul(eps, b));
  });
}

/** SPEC 1.3: x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t). */
export function predictX0(xt: tf.Tensor4D, eps: tf.Tensor4D, t: number, schedule: NoiseSchedule): tf.Tensor4D {
  checkTimestep(t, schedule);
  const abar = schedule.alphasCumprod[t];
  return tf.tidy(() => tf.div(tf.sub(xt, tf.mul(eps, Math.sqrt(1 - abar))), Math.sqrt(abar)));
}

/** The scalars of one step t -> t' (t' < t), SPEC 1.4 and B.2. */
export interface StepCoefficients {
  abarT: number;
  abarPrev: number;
  /** alpha_t = abar_t / abar_t' (for t' = t - 1 this is the schedule's alpha_t). */
  alpha: number;
  /** beta_t = 1 - alpha_t (diffusers' current_beta_t), the upper end of the learned range. */
  beta: number;
  /** Posterior variance (1 - abar_t') / (1 - abar_t) beta_t, clamped >= 1e-20: the lower end. */
  posteriorVariance: number;
  /** Weight of x0_hat: sqrt(abar_t') beta_t / (1 - abar_t). */
  x0Coef: number;
  /** Weight of x_t: sqrt(alpha_t) (1 - abar_t') / (1 - abar_t). */
  xtCoef: number;
}

export function stepCoefficients(schedule: NoiseSchedule, t: number, tPrev: number): StepCoefficients {
  const T = schedule.alphasCumprod.length;
  if (!Number.isInteger(t) || !Number.isInteger(tPrev) || tPrev < 0 || t >= T || tPrev >= t) {
    throw new Error(`A denoising step goes from t to a smaller t' inside 0..${T - 1}; got t = ${t}, t' = ${tPrev}`);
  }
  const abarT = schedule.alphasCumprod[t];
  const abarPrev = schedule.alphasCumprod[tPrev];
  const alpha = abarT / abarPrev;
  const beta = 1 - alpha;
  const posteriorVariance = Math.max(((1 - abarPrev) / (1 - abarT)) * beta, 1e-20);
  return {
    abarT,
    abarPrev,
    alpha,
    beta,
    posteriorVariance,
    x0Coef: (Math.sqrt(abarPrev) * beta) / (1 - abarT),
    xtCoef: (Math.sqrt(alpha) * (1 - abarPrev)) / (1 - abarT),
  };
}

/**
 * The noise added in a step (diffusers' variance_type):
 * - 'posterior' (fixed_small, SPEC Part A): sigma^2 = the posterior variance;
 * - 'beta' (fixed_large, SPEC B.2: sigma_t = sqrt(beta_t));
 * - a tensor: the model's learned range (learned_range, SPEC 1.4), per pixel
 *   exp(0.5 (frac log beta + (1 - frac) log posterior)), frac = (v + 1) / 2.
 */
export type StepVariance = 'posterior' | 'beta' | tf.Tensor4D;

/** The standard deviation of a step's noise: a number, or a tensor for the learned range. */
export function stepNoiseStd(c: StepCoefficients, variance: StepVariance = 'posterior'): tf.Tensor | number {
  if (variance === 'posterior') return Math.sqrt(c.posteriorVariance);
  if (variance === 'beta') return Math.sqrt(c.beta);
  const logBeta = Math.log(c.beta);
  const logVar = Math.log(c.posteriorVariance);
  return tf.tidy(() => {
    const frac = tf.div(tf.add(variance, 1), 2);
    const logVariance = tf.add(tf.mul(frac, logBeta), tf.mul(tf.sub(1, frac), logVar));
    return tf.exp(tf.mul(logVariance, 0.5));
  });
}

export interface StepOptions {
  /** Default 'posterior'. */
  variance?: StepVariance;
  /**
   * Clip x0_hat to [-1, 1] first (diffusers' clip_sample; SPEC's formula does not): near t = T the
   * division by sqrt(abar_t) multiplies a small model's error in eps up to ~70 times.
   */
  clipX0?: boolean;
}

/**
 * One denoising step of SPEC 1.4 (strided) and B.2 (t' = t - 1) from t to t':
 * x_t' = sqrt(abar_t') beta_t / (1 - abar_t) x0_hat + sqrt(alpha_t) (1 - abar_t') / (1 - abar_t) x_t + sigma z,
 * with x0_hat from predictX0 and sigma from stepNoiseStd. `z` is standard normal noise of x's
 * shape, or null for no noise (B.2's last step). The caller owns the result.
 */
export function denoiseStep(
  schedule: NoiseSchedule,
  xt: tf.Tensor4D,
  t: number,
  tPrev: number,
  eps: tf.Tensor4D,
  z: tf.Tensor4D | null,
  opts: StepOptions = {},
): tf.Tensor4D {
  const c = stepCoefficients(schedule, t, tPrev);
  return tf.tidy(() => {
    const raw = predictX0(xt, eps, t, schedule);
    const x0 = opts.clipX0 ? tf.clipByValue(raw, -1, 1) : raw;
    const mean = tf.add(tf.mul(x0, c.x0Coef), tf.mul(xt, c.xtCoef)) as tf.Tensor4D;
    return z === null ? mean : (tf.add(mean, tf.mul(z, stepNoiseStd(c, opts.variance))) as tf.Tensor4D);
  });
}

/** SPEC 1.6 and B.4, classifier-free guidance: eps = eps_u + gamma (eps_c - eps_u). */
export function guide(epsCond: tf.Tensor4D, epsUncond: tf.Tensor4D, gamma: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(epsUncond, tf.mul(tf.sub(epsCond, epsUncond), gamma)));
}

/** v-prediction's target: v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0, one timestep per image. */
export function velocity(x0: tf.Tensor4D, eps: tf.Tensor4D, t: ArrayLike<number>, schedule: NoiseSchedule): tf.Tensor4D {
  const abar = abarOf(schedule, t, x0.shape[0]);
  return tf.tidy(() => {
    const [a, b] = perImage(abar);
    return tf.sub(tf.mul(eps, a), tf.mul(x0, b));
  });
}

/** The noise a v-prediction implies: eps = sqrt(abar_t) v + sqrt(1 - abar_t) x_t. */
export function epsFromVelocity(v: tf.Tensor4D, xt: tf.Tensor4D, t: number, schedule: NoiseSchedule): tf.Tensor4D {
  checkTimestep(t, schedule);
  const abar = schedule.alphasCumprod[t];
  return tf.tidy(() => tf.add(tf.mul(v, Math.sqrt(abar)), tf.mul(xt, Math.sqrt(1 - abar))));
}

/**
 * Strided timesteps from `start` down to 0: stridedTimesteps() = [990, 960, ..., 30, 0]
 * (34 values, SPEC 1.4). `start` must be a multiple of `stride` so the list ends at 0.
 */
export function stridedTimesteps(start = 990, stride = 30): number[] {
  if (!Number.isInteger(start) || start < 1) throw new Error(`stridedTimesteps: start must be a positive integer, got ${start}`);
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`stridedTimesteps: stride must be a positive integer, got ${stride}`);
  if (start % stride !== 0) {
    throw new Error(
      `stridedTimesteps: start ${start} is not a multiple of stride ${stride}, so the list would not end at t = 0; use e.g. start ${start - (start % stride)}`,
    );
  }
  const out: number[] = [];
  for (let t = start; t >= 0; t -= stride) out.push(t);
  return out;
}

/**
 * The timesteps diffusers' DDPMScheduler.set_timesteps(n) uses by default ("leading" spacing):
 * k * floor(T / n) for k = n-1..0, e.g. n = 5, T = 1000 -> [800, 600, 400, 200, 0]. For SPEC
 * section 0 (num_inference_steps 5, 10, 20, 40).
 */
export function inferenceTimesteps(numSteps: number, T = 1000): number[] {
  if (!Number.isInteger(numSteps) || numSteps < 1 || numSteps > T) {
    throw new Error(`inferenceTimesteps: number of inference steps must be an integer from 1 to ${T}, got ${numSteps}`);
  }
  const ratio = Math.floor(T / numSteps);
  const out: number[] = [];
  for (let k = numSteps - 1; k >= 0; k--) out.push(k * ratio);
  return out;
}

/** Checks a timestep list: at least 2 integers, strictly decreasing, inside the schedule. */
export function checkTimesteps(timesteps: readonly number[], schedule: NoiseSchedule): void {
  const last = schedule.alphasCumprod.length - 1;
  if (timesteps.length < 2) throw new Error(`Timesteps: need at least 2 (a start and an end), got ${timesteps.length}; use stridedTimesteps()`);
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i];
    if (!Number.isInteger(t) || t < 0 || t > last) {
      throw new Error(`Timesteps: entry ${i} is ${t}, but timesteps must be integers from 0 to ${last} for this schedule`);
    }
    if (i > 0 && t >= timesteps[i - 1]) {
      throw new Error(`Timesteps must decrease strictly (e.g. 990, 960, ..., 0); entry ${i} is ${t} after ${timesteps[i - 1]}`);
    }
  }
}
