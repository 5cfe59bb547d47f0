import { tf } from './backend/tf';
import { backendInfo } from './backend/select';
import { UNet, UNetInputs } from './nn/unet';
import { sampleWorkerCount, UNetWorkers } from './nn/unet-workers';
import { oneHot } from './nn/one-hot';
import { guidedPredictions } from './pipelines/cfg';
import { gaussianNoise } from './pipelines/forward-process';
import { denoiseLoop } from './pipelines/loop';
import { NoisePredictor, promptPredictor } from './pipelines/predictor';
import { DiffusionModel, ModelOutput } from './pretrained/model';
import { Rng } from './random';
import { noiseLevels } from './scheduler';
import { NoiseSchedule } from './noise-schedules';
import type { PixelRange } from './train/config';

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
  /**
   * Denoising steps, evenly spaced from T down to 0 (default T: SPEC's every timestep). Fewer
   * steps take strided DDPM steps t -> t' with beta = 1 - abar_t / abar_t', as Part A does.
   */
  steps?: number;
  /** The noise of each step: 'beta' (SPEC B.2, sigma^2 = beta_t, default) or 'posterior' (Part A's). */
  variance?: 'beta' | 'posterior';
  /**
   * The pixel range the model was trained on: its run's `config.pixelRange` (default 'unit', SPEC's
   * [0, 1]). Samples and frames come back in [0, 1] either way.
   */
  pixelRange?: PixelRange;
  /** Images per UNet call (memory); default 64. */
  chunk?: number;
  /** Keep x_t every `captureEvery` steps (and the final x_0) as frames for an animation. */
  captureEvery?: number;
  /** Called with each frame as it is captured (see captureEvery). */
  onFrame?: (frame: { t: number; images: Float32Array }) => void;
  /** Called after each step with the steps done (1..steps) and the number of steps. */
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
  /** Samples x_0 in [0, 1] pixels, [N, 28, 28, 1] (the model's size and channels). Values are not clipped; show them through the [0, 1] range. */
  images: Float32Array;
  count: number;
  /** Height and width of each image, and its channels (the model's). */
  size: number;
  channels: number;
  /** Denoising steps taken from T to 0 (T: every timestep). */
  steps: number;
  /** x_t snapshots (each as many values as images, in [0, 1] pixels like the samples) and their timesteps, when captureEvery was set. */
  frames: Array<{ t: number; images: Float32Array }>;
}

/**
 * Part B's UNet behind the DiffusionModel interface, so that its sampling runs on Part A's loop
 * and CFG: the prompt embedding is the class code (one-hot; zeros = unconditional), which the
 * time-conditioned UNet ignores, and t goes in as t / T. Batches are evaluated `chunk` images at a
 * time (memory), on worker threads when a pool is given (the same bits).
 */
class PartBModel implements DiffusionModel {
  readonly name: string;
  readonly imageSize: number;
  readonly channels: number;
  readonly learnedVariance = false;

  constructor(
    private readonly unet: UNet,
    readonly schedule: NoiseSchedule,
    private readonly pool: UNetWorkers | null,
    private readonly chunk: number,
  ) {
    this.name = `Part B ${unet.config.conditioning}-conditioned UNet`;
    this.imageSize = unet.imageSize;
    this.channels = unet.config.channels;
  }

  predict(xt: tf.Tensor4D, t: number, prompt: tf.Tensor2D): ModelOutput {
    const n = xt.shape[0];
    const tNorm = t / this.schedule.T;
    const parts: tf.Tensor4D[] = [];
    // Each chunk in its own tidy: the UNet's activations of one chunk are freed before the next.
    for (let start = 0; start < n; start += this.chunk) {
      const m = Math.min(n, start + this.chunk) - start;
      parts.push(
        tf.tidy(() => {
          const x = tf.slice(xt, [start, 0, 0, 0], [m, -1, -1, -1]);
          const c = this.unet.config.conditioning === 'class' ? (tf.slice(prompt, [start, 0], [m, -1]) as tf.Tensor2D) : undefined;
          return this.forward({ x, t: tf.fill([m, 1], tNorm) as tf.Tensor2D, c });
        }),
      );
    }
    if (parts.length === 1) return { eps: parts[0] };
    const eps = tf.concat(parts, 0) as tf.Tensor4D;
    tf.dispose(parts);
    return { eps };
  }

  /** The UNet, or its copies in the workers: the same inputs, the same output bits. */
  private forward(inputs: UNetInputs): tf.Tensor4D {
    if (!this.pool) return this.unet.forward(inputs);
    const values = (v: tf.Tensor | undefined) => (v === undefined ? undefined : (v.dataSync() as Float32Array));
    const images = this.pool.forward(values(inputs.x)!, inputs.x.shape[0], values(inputs.t), values(inputs.c));
    return tf.tensor4d(images, inputs.x.shape);
  }
}

/** `steps` + 1 timesteps evenly spaced from T down to 0: all of T, T - 1, ..., 0 when steps = T. */
export function samplingTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new Error(`steps must be a whole number from 1 to the schedule's T = ${T}, got ${steps}`);
  }
  return Array.from({ length: steps + 1 }, (_, i) => Math.round((T * (steps - i)) / steps));
}

/**
 * DDPM sampling, SPEC Algorithm B.2 (time-conditioned) and B.4 (class-conditioned with CFG), on
 * the loop every pipeline uses (pipelines/loop.ts): x_T ~ N(0, I); for t = T..1 (or `steps` of
 * them, evenly spaced), one denoiseStep t -> t - 1 (t -> t') with sigma_t = sqrt(beta_t)
 * (variance 'beta') and no noise at the last step; under guidance eps = eps_u + gamma (eps_c -
 * eps_u) from one batch of both (guidedPredictions).
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
  const { first, last } = noiseLevels(schedule);
  const timesteps = samplingTimesteps(last, opts.steps ?? last - first + 1);
  const shape: [number, number, number, number] = [n, model.imageSize, model.imageSize, model.config.channels];

  const calls = n * (timesteps.length - 1) * (classes ? 2 : 1);
  // workers: 0 never asks for the backend record (a browser has none: it runs the library without initBackend).
  const wanted = opts.workers !== 0 && (opts.workers !== undefined || calls >= AUTO_WORKERS_MIN_CALLS);
  const workers = wanted ? sampleWorkerCount(backendInfo().name, opts.workers) : 0;
  const pool = workers > 0 ? UNetWorkers.start(model, workers, backendInfo().name) : null;
  const partB = new PartBModel(model, schedule, pool, opts.chunk ?? 64);
  const start = gaussianNoise(shape, rng) as tf.Tensor4D;
  const codes = classes ? oneHot(classes, model.config.numClasses) : tf.zeros([1, 0]);
  const unconditional = tf.zeros([1, model.config.numClasses]) as tf.Tensor2D;
  const predictor: NoisePredictor = classes
    ? (x, t) => guidedPredictions(partB, t, [{ x, prompt: codes as tf.Tensor2D }], unconditional, guidance)[0]
    : promptPredictor(partB, codes as tf.Tensor2D);
  // A model trained on [-1, 1] pixels samples in [-1, 1]: map back to [0, 1] pixels.
  const toUnit = (v: Float32Array): Float32Array => (opts.pixelRange === 'symmetric' ? v.map((p) => (p + 1) / 2) : v);
  const frames: DdpmSampleResult['frames'] = [];
  try {
    const x = denoiseLoop({
      schedule,
      predictor,
      start,
      iStart: 0,
      timesteps,
      rng,
      variance: opts.variance ?? 'beta',
      noiseAtLastStep: false,
      frameEvery: opts.captureEvery,
      onFrame: opts.captureEvery
        ? (f) => {
            frames.push({ t: f.t, images: toUnit(f.image) });
            opts.onFrame?.(frames[frames.length - 1]);
          }
        : undefined,
      onStep: opts.onStep ? (done, total) => opts.onStep!(done, total) : undefined,
    });
    const images = toUnit((x.dataSync() as Float32Array).slice());
    x.dispose();
    return { images, count: n, size: model.imageSize, channels: model.config.channels, steps: timesteps.length - 1, frames };
  } finally {
    tf.dispose([start, codes, unconditional]);
    pool?.close();
  }
}
