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

/**
 * Set by the report builder for the notebooks it runs: they write their figure folders below it,
 * and the builder moves them into outputs/ once the whole build succeeded.
 */
export const FIGURES_DIR_ENV_VAR = 'DIFFUSION_FIGURES_DIR';
