import { tf } from '../backend/tf';
import { Rng } from '../random';
import { NoiseSchedule } from '../noise-schedules';
import { gaussianNoise } from './forward-process';
import { NoisePredictor } from './predictor';
import { checkTimesteps, denoiseStep } from '../scheduler';
import { checkIStart } from './timesteps';

/** A snapshot of x during denoising, for animations and figures. */
export interface DenoiseFrame {
  /** Index into the timesteps of this x (iStart for the starting image). */
  index: number;
  /** Its timestep. */
  t: number;
  /** The images' values (a copy), NHWC. */
  image: Float32Array;
  shape: [number, number, number, number];
}

/** Progress and frame callbacks shared by every denoising pipeline. */
export interface DenoiseCallbacks {
  /** After each step: steps done (1..total), the number of steps, and the timestep reached. */
  onStep?: (done: number, total: number, t: number) => void;
  /** x at the start and after the steps selected by frameEvery (and always the final one). */
  onFrame?: (frame: DenoiseFrame) => void;
  /** Report a frame every this many steps (default 1; SPEC 1.4's figure uses 5). */
  frameEvery?: number;
}

export interface DenoiseLoopOptions extends DenoiseCallbacks {
  schedule: NoiseSchedule;
  predictor: NoisePredictor;
  /** x at timesteps[iStart]; not disposed. */
  start: tf.Tensor4D;
  iStart: number;
  timesteps: readonly number[];
  /** Draws z for every step (one normal per value of x, in NHWC order), after the predictor runs. */
  rng: Rng;
  /** Applied to each new x_t' (e.g. inpainting's projection); may draw from rng after z. */
  afterStep?: (x: tf.Tensor4D, tPrev: number) => tf.Tensor4D;
  /** Clip each step's x0_hat to [-1, 1] (the model's clipSample; SPEC's formula does not). */
  clipX0?: boolean;
  /** The step variance when the predictor returns none: 'posterior' (SPEC 1.4, default) or 'beta' (B.2). */
  variance?: 'posterior' | 'beta';
  /** Add noise at the last step too (SPEC 1.4, default); B.2 adds none there (z = 0) and draws none. */
  noiseAtLastStep?: boolean;
}

/**
 * The denoising loop of SPEC 1.4 (strided timesteps) and B.2 (every timestep, T..0), from
 * timesteps[iStart] down to the last one, with any noise predictor: Part A's pipelines and Part
 * B's DDPM sampling both run here. Noise is added at every step (the learned range when the
 * predictor returns a variance value, else `variance`), except at the last one when
 * noiseAtLastStep is false. The caller owns the result.
 */
export function denoiseLoop(opts: DenoiseLoopOptions): tf.Tensor4D {
  const { schedule, predictor, timesteps, iStart, rng } = opts;
  checkTimesteps(timesteps, schedule);
  checkIStart(iStart, timesteps);
  const every = opts.frameEvery ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new Error(`frameEvery must be a positive integer, got ${every}`);
  const total = timesteps.length - 1 - iStart;
  const emit = (x: tf.Tensor4D, index: number) => {
    if (!opts.onFrame) return;
    if ((index - iStart) % every !== 0 && index !== timesteps.length - 1) return;
    const [n, h, w, c] = x.shape;
    opts.onFrame({ index, t: timesteps[index], image: (x.dataSync() as Float32Array).slice(), shape: [n, h, w, c] });
  };

  let x = tf.clone(opts.start);
  try {
    emit(x, iStart);
    for (let i = iStart; i < timesteps.length - 1; i++) {
      const t = timesteps[i];
      const tPrev = timesteps[i + 1];
      const next = tf.tidy(() => {
        const out = predictor(x, t);
        const last = i === timesteps.length - 2;
        const z = last && opts.noiseAtLastStep === false ? null : (gaussianNoise(x.shape, rng) as tf.Tensor4D);
        const stepped = denoiseStep(schedule, x, t, tPrev, out.eps, z, { variance: out.varValue ?? opts.variance ?? 'posterior', clipX0: opts.clipX0 });
        return opts.afterStep ? opts.afterStep(stepped, tPrev) : stepped;
      });
      x.dispose();
      x = next;
      emit(x, i + 1);
      opts.onStep?.(i + 1 - iStart, total, tPrev);
    }
  } catch (e) {
    x.dispose();
    throw e;
  }
  return x;
}
