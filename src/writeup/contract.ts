import type { RuntimeOptions } from '../lib/runtime-options';

/**
 * The contract between the notebooks and the report builder that runs them: what the builder tells
 * a notebook's kernel (environment variables) and what a notebook hands back to the builder inside
 * its executed copy (display outputs under private MIME types). Both sides import it from here.
 */

// ---- Builder -> notebook: environment variables of the kernel ----

/**
 * The folder the notebooks write their figure folders below; the builder moves them into outputs/
 * once the whole build succeeded. Unset outside a build: figures go straight to outputs/.
 */
export const FIGURES_DIR_ENV_VAR = 'DIFFUSION_FIGURES_DIR';

/**
 * Progress while a cell runs. A cell that computes without awaiting blocks the kernel's event
 * loop, so its displays reach the report builder only when it ends; a line written straight to the
 * kernel's stderr (fs.writeSync) reaches it at once. notebookProgress writes one, prefixed, when the
 * builder sets this variable for the kernel; the builder reads them off the kernel's stderr.
 */
export const PROGRESS_STDERR_ENV_VAR = 'DIFFUSION_PROGRESS_STDERR';
export const PROGRESS_LINE_PREFIX = '[diffusion-progress] ';

// ---- Notebook -> builder: display outputs in the executed notebook ----

/**
 * What a notebook runs on, sent as a display output by startNotebook so the report builder reads
 * it from the executed notebook as data (the manifest's provenance of every figure). The site
 * leaves the output out; the stderr line of initBackend says the same for readers.
 */
export const RUN_INFO_MIME = 'application/x-diffusion-ts-run+json';

export interface RunInfo {
  /** describeBackend's line, e.g. "wasm (SIMD, 2 threads) @tensorflow/tfjs-backend-wasm 4.22.0". */
  backend: string;
  runtime: RuntimeOptions;
}

/**
 * How a notebook hands a trained model to the site's live demos: a display output whose data
 * holds the model as a base64 F16 network file under SHARED_MODEL_MIME, with its demo name and a
 * description in the output's metadata. The report builder takes it out of the executed notebook
 * (so a cached notebook still ships its model) and writes it to site/demo/models/.
 */
export const SHARED_MODEL_MIME = 'application/x-diffusion-ts-model';

/** The models the demos can run that notebooks train (the colour model ships with the code). */
export type SharedModelName = 'denoiser' | 'class-conditioned';

export const SHARED_MODEL_NAMES: readonly SharedModelName[] = ['denoiser', 'class-conditioned'];

export interface SharedModelMetadata {
  name: SharedModelName;
  description: string;
}
