import { tf } from '../backend/tf';
import { Rng } from '../random';
import { addNoise, checkTimestep } from '../scheduler';
import { NoiseSchedule, cosineSchedule } from '../noise-schedules';

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

/** SPEC 1.1 with given noise (scheduler.addNoise on Part A's schedule by default). */
export function forwardWithNoise(im: tf.Tensor4D, t: number, noise: tf.Tensor4D, schedule: NoiseSchedule = partASchedule()): tf.Tensor4D {
  return addNoise(im, noise, t, schedule);
}

/**
 * SPEC 1.1, the forward process: noise clean images [B, H, W, C] in [-1, 1] to timestep t,
 * with eps ~ N(0, I) drawn from `rng`. The default schedule is Part A's T = 1000 cosine.
 * (SPEC's name for it; a network's forward pass is Module.forward.)
 */
export function forward(im: tf.Tensor4D, t: number, rng: Rng, schedule: NoiseSchedule = partASchedule()): tf.Tensor4D {
  checkTimestep(t, schedule);
  const noise = gaussianNoise(im.shape, rng) as tf.Tensor4D;
  const out = forwardWithNoise(im, t, noise, schedule);
  noise.dispose();
  return out;
}
