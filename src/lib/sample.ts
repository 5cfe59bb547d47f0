import { tf } from './backend/tf';
import { backendInfo } from './backend/select';
import { UNet, UNetInputs } from './nn/unet';
import { sampleWorkerCount, UNetWorkers } from './nn/unet-workers';
import { oneHot } from './nn/one-hot';
import { gaussianNoise } from './pipelines/forward';
import { Rng } from './random';
import { denoiseStep, guide, noiseLevels } from './scheduler';
import { NoiseSchedule } from './schedules';

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
   * image evaluations, where starting them pays (docs/performance.md section 9). The samples are the same bits.
   */
  workers?: number;
}

/** Image evaluations (images x steps, CFG counting 2) from which ddpmSample starts workers by default. */
export const AUTO_WORKERS_MIN_CALLS = 2000;

export interface DdpmSampleResult {
  /** Samples x_0, [N, 28, 28, 1] (the model's size and channels). Values are not clipped; show them through the [0, 1] range. */
  images: Float32Array;
  count: number;
  /** Height and width of each image, and its channels (the model's). */
  size: number;
  channels: number;
  /** x_t snapshots (each as many values as images) and their timesteps, when captureEvery was set. */
  frames: Array<{ t: number; images: Float32Array }>;
}

/**
 * DDPM sampling, SPEC Algorithm B.2 (time-conditioned) and B.4 (class-conditioned with CFG):
 * x_T ~ N(0, I); for t = T..1, x_{t-1} = scheduler.denoiseStep(x_t, t -> t - 1) with
 * sigma_t = sqrt(beta_t) (variance 'beta') and no noise at the last step, and under guidance
 * eps = scheduler.guide(eps_c, eps_u, gamma).
 */
export function ddpmSample(opts: DdpmSampleOptions): DdpmSampleResult {
  const { model, schedule, rng } = opts;
  const conditioning = model.config.conditioning;
  if (conditioning === 'none') {
    throw new Error('ddpmSample needs a time- or class-conditioned UNet; the single-step denoiser is applied directly.');
  }
  if (schedule.indexing !== 'ddpm') {
    throw new Error(`ddpmSample runs Part B's schedule (ddpmSchedule(T), timesteps 1..T); got a '${schedule.indexing}' schedule`);
  }
  const classes = opts.classes ? Array.from(opts.classes) : null;
  if (conditioning === 'class' && !classes) throw new Error('A class-conditioned UNet needs `classes` (one digit per sample).');
  const n = classes ? classes.length : (opts.count ?? 0);
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
  const { first, last } = noiseLevels(schedule);
  const shape: [number, number, number, number] = [n, model.imageSize, model.imageSize, model.config.channels];
  let x = gaussianNoise(shape, rng) as tf.Tensor4D;
  const frames: DdpmSampleResult['frames'] = [];
  const capture = (t: number) => {
    frames.push({ t, images: (x.dataSync() as Float32Array).slice() });
    opts.onFrame?.(frames[frames.length - 1]);
  };
  if (opts.captureEvery) capture(last);

  const calls = n * last * (classes ? 2 : 1);
  // workers: 0 never asks for the backend record (a browser has none: it runs the library without initBackend).
  const wanted = opts.workers !== 0 && (opts.workers !== undefined || calls >= AUTO_WORKERS_MIN_CALLS);
  const workers = wanted ? sampleWorkerCount(backendInfo().name, opts.workers) : 0;
  const pool = workers > 0 ? UNetWorkers.start(model, workers, backendInfo().name) : null;
  try {
    for (let t = last; t >= first; t--) {
      const eps = predictNoise(model, pool, x, t / schedule.T, classes, guidance, chunk);
      // B.2: z ~ N(0, I) if t > 1, else z = 0.
      const z = t > first ? (gaussianNoise(shape, rng) as tf.Tensor4D) : null;
      const next = denoiseStep(schedule, x, t, t - 1, eps, z, { variance: 'beta' });
      tf.dispose(z ? [x, eps, z] : [x, eps]);
      x = next;
      if (opts.captureEvery && ((last - t + 1) % opts.captureEvery === 0 || t === first)) capture(t - 1);
      opts.onStep?.(last - t + 1, last);
    }
    return { images: (x.dataSync() as Float32Array).slice(), count: n, size: model.imageSize, channels: model.config.channels, frames };
  } finally {
    x.dispose();
    pool?.close();
  }
}

/** The (guided) noise estimate for every sample at one timestep, computed in chunks. */
function predictNoise(
  model: UNet,
  pool: UNetWorkers | null,
  x: tf.Tensor4D,
  tNorm: number,
  classes: number[] | null,
  guidance: number,
  chunk: number,
): tf.Tensor4D {
  const n = x.shape[0];
  // The model, or its copies in the workers: the same inputs, the same output bits.
  const unet = (inputs: UNetInputs): tf.Tensor4D => {
    if (!pool) return model.forward(inputs);
    const values = (v: tf.Tensor | undefined) => (v === undefined ? undefined : (v.dataSync() as Float32Array));
    const images = pool.forward(values(inputs.x)!, inputs.x.shape[0], values(inputs.t), values(inputs.c));
    return tf.tensor4d(images, inputs.x.shape);
  };
  // Each chunk in its own tidy: the UNet's activations of one chunk are freed before the next.
  const parts: tf.Tensor4D[] = [];
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(n, start + chunk) - start;
    parts.push(
      tf.tidy(() => {
        const xs = tf.slice(x, [start, 0, 0, 0], [m, -1, -1, -1]);
        if (!classes) return unet({ x: xs, t: tf.fill([m, 1], tNorm) as tf.Tensor2D });
        // Conditional and unconditional estimates in one batch of 2m.
        const labels = classes.slice(start, start + m);
        const c = tf.concat([oneHot(labels, model.config.numClasses), tf.zeros([m, model.config.numClasses])], 0) as tf.Tensor2D;
        const both = unet({ x: tf.concat([xs, xs], 0) as tf.Tensor4D, t: tf.fill([2 * m, 1], tNorm) as tf.Tensor2D, c });
        const [epsC, epsU] = tf.split(both, 2, 0) as tf.Tensor4D[];
        return guide(epsC, epsU, guidance);
      }),
    );
  }
  if (parts.length === 1) return parts[0];
  const eps = tf.concat(parts, 0) as tf.Tensor4D;
  tf.dispose(parts);
  return eps;
}
