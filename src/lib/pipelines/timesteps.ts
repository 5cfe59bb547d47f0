import { NoiseSchedule } from '../schedules';

/** SPEC 1.7: the strided indices at which SDEdit starts (t = 960, 900, 840, 780, 690, 390). */
export const SDEDIT_I_STARTS: readonly number[] = [1, 3, 5, 7, 10, 20];

/** SPEC 1.4's default start index (t = 690 on the default timesteps). */
export const DEFAULT_I_START = 10;

/**
 * Strided timesteps from `start` down to 0: stridedTimesteps() = [990, 960, ..., 30, 0]
 * (34 values, SPEC 1.4). `start` must be a multiple of `stride` so the list ends at 0.
 */
export function stridedTimesteps(start = 990, stride = 30): number[] {
  if (!Number.isInteger(start) || start < 1) throw new Error(`stridedTimesteps: start must be a positive integer, got ${start}`);
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`stridedTimesteps: stride must be a positive integer, got ${stride}`);
  if (start % stride !== 0) {
    throw new Error(`stridedTimesteps: start ${start} is not a multiple of stride ${stride}, so the list would not end at t = 0; use e.g. start ${start - (start % stride)}`);
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

/** Checks a timestep list: at least 2 integers, strictly decreasing, inside the schedule's 0..T-1. */
export function checkTimesteps(timesteps: readonly number[], schedule: NoiseSchedule): void {
  const T = schedule.alphasCumprod.length;
  if (timesteps.length < 2) throw new Error(`Timesteps: need at least 2 (a start and an end), got ${timesteps.length}; use stridedTimesteps()`);
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i];
    if (!Number.isInteger(t) || t < 0 || t >= T) {
      throw new Error(`Timesteps: entry ${i} is ${t}, but timesteps must be integers from 0 to ${T - 1} for this schedule`);
    }
    if (i > 0 && t >= timesteps[i - 1]) {
      throw new Error(`Timesteps must decrease strictly (e.g. 990, 960, ..., 0); entry ${i} is ${t} after ${timesteps[i - 1]}`);
    }
  }
}

/** Checks that denoising can start at index iStart of `timesteps` (at least one step left). */
export function checkIStart(iStart: number, timesteps: readonly number[]): void {
  const last = timesteps.length - 2;
  if (!Number.isInteger(iStart) || iStart < 0 || iStart > last) {
    throw new Error(
      `i_start ${iStart} is out of range: the timesteps have ${timesteps.length} entries (${timesteps[0]}..${timesteps[timesteps.length - 1]}), ` +
        `so i_start must be an integer from 0 (pure noise) to ${last}. SDEdit uses ${SDEDIT_I_STARTS.join(', ')}.`,
    );
  }
}
