/** SPEC 1.7: the strided indices at which SDEdit starts (t = 960, 900, 840, 780, 690, 390). */
export const SDEDIT_I_STARTS: readonly number[] = [1, 3, 5, 7, 10, 20];

/** SPEC 1.4's default start index (t = 690 on the default timesteps). */
export const DEFAULT_I_START = 10;

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
