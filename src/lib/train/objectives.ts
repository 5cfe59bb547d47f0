import { tf } from '../backend/tf';
import type { Labels } from '../data/dataset';
import { UNet } from '../nn/unet';
import { ForwardContext } from '../nn/module';
import { oneHot } from '../nn/one-hot';
import { Rng } from '../random';
import { addNoise, noiseLevels } from '../scheduler';
import { NoiseSchedule, SCHEDULE_INDEXING } from '../noise-schedules';
import { TrainConfig } from './config';

/**
 * One training batch's inputs, drawn on the CPU from the seeded generator so every backend sees
 * the same numbers. Every array holds `count` rows of equal length (so a draw can be cut into
 * micro-batches without knowing what each array is). `images` is [n, size, size, channels] in
 * [0, 1] (Part B: [n, 28, 28, 1]).
 */
export interface BatchDraw {
  images: Float32Array;
  labels: Labels;
  count: number;
  /** Height = width of `images`. */
  size: number;
  /** Standard normal noise, one value per pixel. */
  noise: Float32Array;
  /** B2: timesteps in 1..T, one per image (cosine schedule: 0..T-1). */
  timesteps?: Int32Array;
  /** B2.4: 1 keeps the class, 0 drops it (unconditional), one per image. */
  keepClass?: Float32Array;
  /** Cascade stage I: the caption's token ids, maxTokens per image. */
  tokens?: Int32Array;
  /** Cascade stage II: the upsampled, noise-augmented low-res image in [-1, 1], one per image. */
  lowRes?: Float32Array;
  /** Cascade stage II: the augmentation timestep of each low-res image. */
  augLevels?: Int32Array;
}

/** Draws the random parts of a Part B batch in a fixed order (noise, then timesteps, then class dropout). */
export function drawBatch(config: TrainConfig, images: Float32Array, labels: Labels, rng: Rng): BatchDraw {
  const count = labels.length;
  const size = Math.round(Math.sqrt(images.length / Math.max(1, count)));
  const draw: BatchDraw = { images, labels, count, size, noise: rng.normalArray(images.length) };
  if (config.kind !== 'denoiser') {
    // Part B draws t from 1..T (abar_0 = 1 is the clean image); the cosine schedule indexes 0..T-1.
    const { first } = noiseLevels({ indexing: SCHEDULE_INDEXING[config.schedule], T: config.T });
    draw.timesteps = new Int32Array(count);
    for (let i = 0; i < count; i++) draw.timesteps[i] = first + rng.int(config.T);
  }
  if (config.kind === 'class') {
    draw.keepClass = new Float32Array(count);
    let labels = draw.labels;
    for (let i = 0; i < count; i++) {
      const u = rng.uniform();
      draw.keepClass[i] = u < config.pUncond ? 0 : 1;
      if (u >= config.pUncond && u < config.pUncond + config.pGeneric) {
        if (labels === draw.labels) labels = draw.labels.slice();
        labels[i] = config.numClasses - 1;
      }
    }
    draw.labels = labels;
  }
  return draw;
}

/** Rows [start, end) of a draw, for micro-batching: every array is cut at the same rows. */
export function sliceDraw(d: BatchDraw, start: number, end: number): BatchDraw {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= d.count)) {
    throw new Error(`sliceDraw: rows [${start}, ${end}) are not a non-empty range of 0..${d.count}`);
  }
  const rows = <T extends Float32Array | Int32Array | Uint8Array | Uint16Array>(a: T): T => {
    const per = a.length / d.count;
    return a.subarray(start * per, end * per) as T;
  };
  const out: BatchDraw = { ...d, count: end - start, images: rows(d.images), labels: rows(d.labels), noise: rows(d.noise) };
  if (d.timesteps) out.timesteps = rows(d.timesteps);
  if (d.keepClass) out.keepClass = rows(d.keepClass);
  if (d.tokens) out.tokens = rows(d.tokens);
  if (d.lowRes) out.lowRes = rows(d.lowRes);
  if (d.augLevels) out.augLevels = rows(d.augLevels);
  return out;
}

/**
 * The scalar training loss of SPEC for one (micro-)batch:
 *  - denoiser (B1): z = x + sigma eps, loss = mean (D(z) - x)^2
 *  - time / class (B2): x_t = sqrt(abar_t) x + sqrt(1 - abar_t) eps, loss = mean (eps_theta(x_t, t, c) - eps)^2
 */
export function batchLoss(model: UNet, config: TrainConfig, schedule: NoiseSchedule | null, d: BatchDraw, ctx: ForwardContext): tf.Scalar {
  const shape: [number, number, number, number] = [d.count, d.size, d.size, 1];
  const pixels = tf.tensor4d(d.images, shape);
  const x = config.pixelRange === 'symmetric' ? (tf.sub(tf.mul(pixels, 2), 1) as tf.Tensor4D) : pixels;
  const eps = tf.tensor4d(d.noise, shape);
  if (config.kind === 'denoiser') {
    const z = tf.add(x, tf.mul(eps, config.sigma)) as tf.Tensor4D;
    return tf.mean(tf.squaredDifference(model.forward({ x: z }, ctx), x)) as tf.Scalar;
  }
  if (!schedule || !d.timesteps) throw new Error('batchLoss: a DDPM objective needs a schedule and timesteps');
  const tNorm = Float32Array.from(d.timesteps, (t) => t / config.T);
  const xt = addNoise(x, eps, d.timesteps, schedule);
  const t = tf.tensor2d(tNorm, [d.count, 1]);
  const c = config.kind === 'class' ? oneHot(d.labels, model.config.numClasses, d.keepClass) : undefined;
  const squared = tf.squaredDifference(model.forward({ x: xt, t, c }, ctx), eps);
  if (config.minSnrGamma === undefined) return tf.mean(squared) as tf.Scalar;
  const weights = minSnrWeights(d.timesteps, schedule, config.minSnrGamma);
  return tf.mean(tf.mul(tf.mean(squared, [1, 2, 3]), tf.tensor1d(weights))) as tf.Scalar;
}

/** Min-SNR loss weights min(SNR_t, gamma) / SNR_t of the given timesteps, SNR_t = abar_t / (1 - abar_t). */
export function minSnrWeights(timesteps: ArrayLike<number>, schedule: NoiseSchedule, gamma: number): Float32Array {
  return Float32Array.from(timesteps, (t) => {
    const abar = schedule.alphasCumprod[t];
    const snr = abar / (1 - abar);
    return snr > gamma ? gamma / snr : 1; // = min(snr, gamma) / snr, also where abar = 0 (snr 0)
  });
}
