import { tf } from './backend/tf';
import { backendInfo } from './backend/select';
import { UNet, UNetInputs } from './nn/unet';
import { sampleWorkerCount, UNetWorkers } from './nn/unet-workers';
import { Rng } from './random';
import { NoiseSchedule } from './schedules';
import { oneHot } from './train/objectives';

export interface DdpmSampleOptions {
  /** A time- or class-conditioned UNet (eval mode is used). */
  model: UNet;
  /** Part B's schedule (ddpmSchedule(T)), arrays indexed t = 0..T. */
  schedule: NoiseSchedule;
  /** Number of images (time-conditioned) or ignored when `classes` is given. */
  count?: number;
  /** Class-conditioned: the digit of each sample. */
  classes?: ArrayLike<number>;
  /** CFG scale gamma (class-conditioned only; SPEC: 5). 1 = no guidance, 0 = unconditional. */
  guidance?: number;
  /** Seeded generator for x_T and every z. */
  rng: Rng;
  /** Images per UNet call (memory); default 64. */
  chunk?: number;
  /** Keep x_t every `captureEvery` steps (and the final x_0) as frames for an animation. */
  captureEvery?: number;
  /** Called with each frame as it is captured (see captureEvery). */
  onFrame?: (frame: { t: number; images: Float32Array }) => void;
  /** Called after each step with the step index 1..T. */
  onStep?: (done: number, total: number) => void;
  /**
   * Worker threads evaluating the UNet (nn/unet-workers.ts), 0 = the calling thread. Default: one
   * per core on wasm (DIFFUSION_SAMPLE_WORKERS overrides) for runs of at least AUTO_WORKERS_MIN_CALLS
   * image evaluations, where starting them (0.15-0.5 s) pays. The samples are the same bits.
   */
  workers?: number;
}

/** Image evaluations (images x steps, CFG counting 2) from which ddpmSample starts workers by default. */
export const AUTO_WORKERS_MIN_CALLS = 2000;

export interface DdpmSampleResult {
  /** Samples x_0, [N, 28, 28, 1]. Values are not clipped; show them through the [0, 1] range. */
  images: Float32Array;
  count: number;
  /** x_t snapshots (each N * 784 values) and their timesteps, when captureEvery was set. */
  frames: Array<{ t: number; images: Float32Array }>;
}

/**
 * DDPM sampling, SPEC Algorithm B.2 (time-conditioned) and B.4 (class-conditioned with CFG):
 * x_T ~ N(0, I); for t = T..1: x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t);
 * x_{t-1} = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x0_hat + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t + sqrt(beta_t) z,
 * with eps = eps_u + gamma (eps_c - eps_u) under guidance, and z = 0 at the last step.
 */
export function ddpmSample(opts: DdpmSampleOptions): DdpmSampleResult {
  const { model, schedule, rng } = opts;
  const conditioning = model.config.conditioning;
  if (conditioning === 'none') {
    throw new Error('ddpmSample needs a time- or class-conditioned UNet; the single-step denoiser is applied directly.');
  }
  const classes = opts.classes ? Array.from(opts.classes) : null;
  if (conditioning === 'class' && !classes) throw new Error('A class-conditioned UNet needs `classes` (one digit per sample).');
  const n = classes ? classes.length : opts.count ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new Error(`ddpmSample: number of samples must be a positive integer, got ${n}`);
  if (classes) {
    for (const c of classes) {
      if (!Number.isInteger(c) || c < 0 || c >= model.config.numClasses) {
        throw new Error(`Unknown class ${c}: this model generates classes 0..${model.config.numClasses - 1}`);
      }
    }
  }
  const guidance = opts.guidance ?? 5;
  const chunk = opts.chunk ?? 64;
  const T = schedule.T;
  const pixels = 28 * 28;
  const x = rng.normalArray(n * pixels);
  const frames: DdpmSampleResult['frames'] = [];
  if (opts.captureEvery) {
    frames.push({ t: T, images: x.slice() });
    opts.onFrame?.(frames[0]);
  }

  const calls = n * T * (classes ? 2 : 1);
  // workers: 0 never asks for the backend record (a browser has none: it runs the library without initBackend).
  const wanted = opts.workers !== 0 && (opts.workers !== undefined || calls >= AUTO_WORKERS_MIN_CALLS);
  const workers = wanted ? sampleWorkerCount(backendInfo().name, opts.workers) : 0;
  const pool = workers > 0 ? UNetWorkers.start(model, workers, backendInfo().name) : null;
  try {
    for (let t = T; t >= 1; t--) {
      const eps = predictNoise(model, pool, x, n, t / T, classes, guidance, chunk);
      const abar = schedule.alphasCumprod[t];
      const abarPrev = schedule.alphasCumprod[t - 1];
      const beta = schedule.betas[t];
      const alpha = schedule.alphas[t];
      const cx0 = (Math.sqrt(abarPrev) * beta) / (1 - abar);
      const cxt = (Math.sqrt(alpha) * (1 - abarPrev)) / (1 - abar);
      const sigma = t > 1 ? Math.sqrt(beta) : 0;
      const sqrtAbar = Math.sqrt(abar);
      const sqrtOneMinus = Math.sqrt(1 - abar);
      for (let i = 0; i < x.length; i++) {
        const x0 = (x[i] - sqrtOneMinus * eps[i]) / sqrtAbar;
        x[i] = cx0 * x0 + cxt * x[i] + (sigma > 0 ? sigma * rng.normal() : 0);
      }
      if (opts.captureEvery && ((T - t + 1) % opts.captureEvery === 0 || t === 1)) {
        frames.push({ t: t - 1, images: x.slice() });
        opts.onFrame?.(frames[frames.length - 1]);
      }
      opts.onStep?.(T - t + 1, T);
    }
  } finally {
    pool?.close();
  }
  return { images: x, count: n, frames };
}

/** The (guided) noise estimate for every sample at one timestep, computed in chunks. */
function predictNoise(
  model: UNet,
  pool: UNetWorkers | null,
  x: Float32Array,
  n: number,
  tNorm: number,
  classes: number[] | null,
  guidance: number,
  chunk: number,
): Float32Array {
  const pixels = 28 * 28;
  const out = new Float32Array(n * pixels);
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const m = end - start;
    // The model, or its copies in the workers: the same inputs, the same output bits.
    const unet = (inputs: UNetInputs): tf.Tensor4D => {
      if (!pool) return model.forward(inputs);
      const values = (v: tf.Tensor | undefined) => (v === undefined ? undefined : (v.dataSync() as Float32Array));
      const images = pool.forward(values(inputs.x)!, inputs.x.shape[0], values(inputs.t), values(inputs.c));
      return tf.tensor4d(images, inputs.x.shape);
    };
    const data = tf.tidy(() => {
      const xs = tf.tensor4d(x.subarray(start * pixels, end * pixels), [m, 28, 28, 1]);
      if (!classes) {
        return unet({ x: xs, t: tf.fill([m, 1], tNorm) as tf.Tensor2D });
      }
      // Conditional and unconditional estimates in one batch of 2m.
      const labels = classes.slice(start, end);
      const c = tf.concat([oneHot(labels, model.config.numClasses), tf.zeros([m, model.config.numClasses])], 0) as tf.Tensor2D;
      const both = unet({ x: tf.concat([xs, xs], 0) as tf.Tensor4D, t: tf.fill([2 * m, 1], tNorm) as tf.Tensor2D, c });
      const [epsC, epsU] = tf.split(both, 2, 0);
      return tf.add(epsU, tf.mul(tf.sub(epsC, epsU), guidance));
    });
    out.set(data.dataSync() as Float32Array, start * pixels);
    data.dispose();
  }
  return out;
}
