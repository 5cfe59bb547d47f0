/**
 * Noise schedules. Everything is computed in float32 (Math.fround at each step), as PyTorch does,
 * so the reference values in SPEC are reproduced exactly.
 */

/**
 * A discrete DDPM schedule with values indexed by timestep. The formulas that use it are in
 * scheduler.ts.
 */
export interface NoiseSchedule {
  /** Number of diffusion steps T. */
  readonly T: number;
  /**
   * How timesteps index the arrays:
   * - 'ddpm' (Part B, SPEC B2): t = 0..T, T + 1 entries; alphasCumprod[0] = 1 is the clean image
   *   and the noise levels are t = 1..T, so the formulas read as written;
   * - 'diffusers' (Part A, DeepFloyd IF): t = 0..T-1, T entries, every t a noise level
   *   (alphasCumprod[0] = 0.999959 for the cosine schedule).
   * In both, alphas[t] = alphasCumprod[t] / alphasCumprod[t - 1].
   */
  readonly indexing: 'ddpm' | 'diffusers';
  /** beta_t. */
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
}

/** Evenly spaced betas from `start` to `end` (inclusive), like torch.linspace in float32. */
export function linearBetas(T: number, start = 1e-4, end = 0.02): Float32Array {
  checkSteps(T);
  const out = new Float32Array(T);
  for (let i = 0; i < T; i++) out[i] = T === 1 ? start : start + ((end - start) * i) / (T - 1);
  return out;
}

/**
 * The cosine ("squaredcos_cap_v2") schedule of improved DDPM, used by DeepFloyd IF:
 * alpha_bar(s) = cos^2(((s + 0.008) / 1.008) pi / 2), beta_i = min(1 - alpha_bar((i+1)/T) / alpha_bar(i/T), 0.999).
 */
export function cosineBetas(T: number, maxBeta = 0.999): Float32Array {
  checkSteps(T);
  const abar = (s: number) => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float32Array(T);
  for (let i = 0; i < T; i++) out[i] = Math.min(1 - abar((i + 1) / T) / abar(i / T), maxBeta);
  return out;
}

/** cumprod(1 - beta) accumulated in float32. */
export function cumprodAlphas(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = Math.fround(1);
  for (let i = 0; i < betas.length; i++) {
    acc = Math.fround(acc * Math.fround(1 - betas[i]));
    out[i] = acc;
  }
  return out;
}

/**
 * Part B's schedule (SPEC B2): T steps, betas linear from 1e-4 to 0.02. Arrays have T + 1 entries
 * indexed by t = 0..T so the formulas read as written: alphasCumprod[0] = 1 (a clean image) and
 * betas[t] for t = 1..T is the t-th value of the linspace.
 */
export function ddpmSchedule(T = 300, betaStart = 1e-4, betaEnd = 0.02): NoiseSchedule {
  const lin = linearBetas(T, betaStart, betaEnd);
  const betas = new Float32Array(T + 1);
  betas.set(lin, 1);
  const alphas = new Float32Array(T + 1);
  for (let t = 0; t <= T; t++) alphas[t] = Math.fround(1 - betas[t]);
  const alphasCumprod = new Float32Array(T + 1);
  alphasCumprod[0] = 1;
  alphasCumprod.set(cumprodAlphas(lin), 1);
  return { T, indexing: SCHEDULE_INDEXING.linear, betas, alphas, alphasCumprod };
}

/**
 * Part A's schedule (DeepFloyd IF): T = 1000 cosine betas, arrays of length T indexed t = 0..T-1
 * as in diffusers (alphasCumprod[0] = 0.999959, alphasCumprod[999] = 2.43e-9).
 */
export function cosineSchedule(T = 1000): NoiseSchedule {
  const betas = cosineBetas(T);
  const alphas = new Float32Array(T);
  for (let t = 0; t < T; t++) alphas[t] = Math.fround(1 - betas[t]);
  return { T, indexing: SCHEDULE_INDEXING.cosine, betas, alphas, alphasCumprod: cumprodAlphas(betas) };
}

/** The timestep convention of each schedule a training config can name. */
export const SCHEDULE_INDEXING: Readonly<Record<'linear' | 'cosine', NoiseSchedule['indexing']>> = { linear: 'ddpm', cosine: 'diffusers' };

/** A schedule by its name in a training config: 'linear' is Part B's ddpmSchedule, 'cosine' DeepFloyd IF's. */
export function scheduleNamed(name: 'linear' | 'cosine', T: number): NoiseSchedule {
  return name === 'cosine' ? cosineSchedule(T) : ddpmSchedule(T);
}

function checkSteps(T: number): void {
  if (!Number.isInteger(T) || T < 1) throw new Error(`A noise schedule needs a positive integer number of steps T, got ${T}`);
}
