import * as os from 'os';
import * as path from 'path';

/** Environment variable: the folder that replaces `outputs/` (the tests point it at a temporary folder). */
export const OUTPUTS_ENV_VAR = 'DIFFUSION_OUTPUTS';

/**
 * Where runs, the judge, figures and executed notebooks go by default: `outputs/` under the
 * working directory, or the folder DIFFUSION_OUTPUTS names. `parts` are joined below it.
 */
export function outputsPath(...parts: string[]): string {
  return path.join(process.env[OUTPUTS_ENV_VAR]?.trim() || 'outputs', ...parts);
}

/** Environment variable: the root of the data cache (rendered and downloaded data sets). */
export const DATA_CACHE_ENV_VAR = 'DIFFUSION_DATA_CACHE';

/** The data cache: DIFFUSION_DATA_CACHE, else ~/.cache/diffusion-ts; `parts` are joined below it. */
export function dataCachePath(...parts: string[]): string {
  return path.join(process.env[DATA_CACHE_ENV_VAR]?.trim() || path.join(os.homedir(), '.cache', 'diffusion-ts'), ...parts);
}
