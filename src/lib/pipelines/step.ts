import { tf } from '../backend/tf';
import { NoiseSchedule } from '../schedules';

/** The scalars of one strided step t -> t' (t' < t), SPEC 1.4. */
export interface StepCoefficients {
  abarT: number;
  abarPrev: number;
  /** alpha_t = abar_t / abar_t' */
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
 * The standard deviation of the noise added in a step (SPEC Part A): with the learned range,
 * exp(0.5 (frac log beta + (1 - frac) log var)), frac = (v + 1) / 2, per pixel; without it,
 * sqrt(var) of the posterior.
 */
export function stepNoiseStd(c: StepCoefficients, varValue?: tf.Tensor4D): tf.Tensor | number {
  if (varValue === undefined) return Math.sqrt(c.posteriorVariance);
  const logBeta = Math.log(c.beta);
  const logVar = Math.log(c.posteriorVariance);
  return tf.tidy(() => {
    const frac = tf.div(tf.add(varValue, 1), 2);
    const logVariance = tf.add(tf.mul(frac, logBeta), tf.mul(tf.sub(1, frac), logVar));
    return tf.exp(tf.mul(logVariance, 0.5));
  });
}

/**
 * One step of SPEC 1.4 from t to t':
 * x_t' = sqrt(abar_t') beta_t / (1 - abar_t) x0_hat + sqrt(alpha_t) (1 - abar_t') / (1 - abar_t) x_t + v_sigma,
 * x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), v_sigma = stepNoiseStd * z.
 * With `clipX0`, x0_hat is clipped to [-1, 1] first (diffusers' DDPMScheduler clip_sample): near
 * t = T the division by sqrt(abar_t) multiplies a small model's error in eps up to ~70 times.
 */
export function denoiseStep(
  schedule: NoiseSchedule,
  xt: tf.Tensor4D,
  t: number,
  tPrev: number,
  eps: tf.Tensor4D,
  z: tf.Tensor4D,
  varValue?: tf.Tensor4D,
  clipX0 = false,
): tf.Tensor4D {
  const c = stepCoefficients(schedule, t, tPrev);
  return tf.tidy(() => {
    const raw = tf.div(tf.sub(xt, tf.mul(eps, Math.sqrt(1 - c.abarT))), Math.sqrt(c.abarT));
    const x0 = clipX0 ? tf.clipByValue(raw, -1, 1) : raw;
    const mean = tf.add(tf.mul(x0, c.x0Coef), tf.mul(xt, c.xtCoef));
    return tf.add(mean, tf.mul(z, stepNoiseStd(c, varValue))) as tf.Tensor4D;
  });
}
