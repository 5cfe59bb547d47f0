import type { RuntimeOptions } from '../lib/runtime-options';

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
