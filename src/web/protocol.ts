import type { DemoJob, DemoResult } from '../lib/demo/jobs';
import type { Pixels } from '../lib/inputs/pixels';

/**
 * Messages between the demo page and its Web Worker. The worker owns TensorFlow.js and the
 * models; the page only draws. Cancelling a job is terminating the worker (a denoising loop is
 * synchronous), and the page starts a fresh one.
 */

/** What a page may ask for; model files are fetched on first use, relative to the worker. */
export type DemoModelName = 'colour' | 'colour-stage2' | 'denoiser' | 'class-conditioned';

/** site/demo/models.json: the model files the build shipped, with their sizes. */
export interface DemoModelIndex {
  models: Partial<Record<DemoModelName, { file: string; bytes: number; sha256: string; description: string }>>;
}

export type BackendName = 'wasm' | 'webgl' | 'cpu';

export type ToWorker =
  | { type: 'init'; backend: BackendName }
  | { type: 'run'; id: number; job: DemoJob };

export type FromWorker =
  | { type: 'ready'; backend: string; simd: boolean; threads: number }
  | { type: 'loading'; id: number; model: DemoModelName; bytes: number }
  | { type: 'progress'; id: number; done: number; total: number; frame?: Pixels }
  | { type: 'result'; id: number; result: DemoResult; ms: { load: number; compute: number } }
  | { type: 'error'; id: number | null; message: string };

/** The demos of try.html, in page order: the site writes a static section for each (so links to
 * them work without scripts) and the page script fills it in. */
export const DEMO_PANELS: ReadonlyArray<{ id: string; title: string }> = [
  { id: 'text-to-image', title: 'Text to image, with classifier-free guidance' },
  { id: 'image-to-image', title: 'Image to image (SDEdit) and hand-drawn edits' },
  { id: 'inpainting', title: 'Inpainting' },
  { id: 'illusions', title: 'Visual anagrams and hybrid images' },
  { id: 'denoise-digit', title: 'Part B1: the single-step denoiser' },
  { id: 'sample-digit', title: 'Part B2: class-conditioned sampling' },
];
