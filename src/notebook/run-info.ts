import type { RuntimeOptions } from '../lib/runtime-options';

/**
 * What a notebook runs on, sent as a display output by startNotebook so the report builder reads
 * it from the executed notebook as data (the manifest's provenance of every figure). The site
 * leaves the output out; the stderr line of initBackend says the same for readers.
 */
export const RUN_INFO_MIME = 'application/x-diffusion-ts-run+json';

/**
 * Progress while a cell runs. A cell that computes without awaiting blocks the kernel's event
 * loop, so its displays reach the report builder only when it ends; a line written straight to the
 * kernel's stderr (fs.writeSync) reaches it at once. notebookProgress writes one, prefixed, when the
 * builder sets this variable for the kernel; the builder reads them off the kernel's stderr.
 */
export const PROGRESS_STDERR_ENV_VAR = 'DIFFUSION_PROGRESS_STDERR';
export const PROGRESS_LINE_PREFIX = '[diffusion-progress] ';

export interface RunInfo {
  /** describeBackend's line, e.g. "wasm (SIMD, 2 threads) @tensorflow/tfjs-backend-wasm 4.22.0". */
  backend: string;
  runtime: RuntimeOptions;
}
