import { tf } from '../backend/tf';
import { Rng } from '../random';
import { NoiseSchedule, cosineSchedule } from '../schedules';

let partA: NoiseSchedule | null = null;

/** Part A's schedule, T = 1000 cosine (DeepFloyd IF), computed once. */
export function partASchedule(): NoiseSchedule {
  if (partA === null) partA = cosineSchedule(1000);
  return partA;
}

/** Standard normal noise of the given shape, drawn from `rng` in JavaScript (same on every backend). */
export function gaussianNoise(shape: readonly number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalArray(size), [...shape], 'float32');
}

/** Checks that t is an integer timestep of the schedule. */
export function checkTimestep(t: number, schedule: NoiseSchedule): void {
  const T = schedule.alphasCumprod.length;
  if (!Number.isInteger(t) || t < 0 || t >= T) throw new Error(`Timestep ${t} is out of range: use an integer from 0 to ${T - 1}`);
}

/** SPEC 1.1 with given noise: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps. */
export function forwardWithNoise(im: tf.Tensor4D, t: number, noise: tf.Tensor4D, schedule: NoiseSchedule = partASchedule()): tf.Tensor4D {
  checkTimestep(t, schedule);
  if (noise.shape.join() !== im.shape.join()) {
    throw new Error(`forward: noise shape [${noise.shape.join(', ')}] differs from image shape [${im.shape.join(', ')}]`);
  }
  const abar = schedule.alphasCumprod[t];
  return tf.tidy(() => tf.add(tf.mul(im, Math.sqrt(abar)), tf.mul(noise, Math.sqrt(1 - abar))));
}

/**
 * SPEC 1.1, the forward process: noise clean images [B, H, W, C] in [-1, 1] to timestep t,
 * with eps ~ N(0, I) drawn from `rng`. The default schedule is Part A's T = 1000 cosine.
 */
export function forward(im: tf.Tensor4D, t: number, rng: Rng, schedule: NoiseSchedule = partASchedule()): tf.Tensor4D {
  checkTimestep(t, schedule);
  const noise = gaussianNoise(im.shape, rng) as tf.Tensor4D;
  const out = forwardWithNoise(im, t, noise, schedule);
  noise.dispose();
  return out;
}
