import type { DemoJob, DemoResult } from '../writeup/demo/jobs';
import type { Pixels } from '../lib/images/pixels';
import type { SharedModelName } from '../writeup/contract';

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

export type ToWorker = { type: 'init'; backend: BackendName } | { type: 'run'; id: number; job: DemoJob };

export type FromWorker =
  | { type: 'ready'; backend: string; simd: boolean; threads: number }
  | { type: 'loading'; id: number; model: DemoModelName; bytes: number }
  | { type: 'progress'; id: number; done: number; total: number; frame?: Pixels }
  | { type: 'result'; id: number; result: DemoResult; ms: { load: number; compute: number } }
  /** id null: not tied to a job; starting: the backend could not start. */
  | { type: 'error'; id: number | null; message: string; starting?: boolean };

/**
 * The demos of try.html, in page order, in one place: the site writes a static section for each
 * (so links to them work without scripts) and a "Try it" note on each writeup page it belongs to;
 * the page script fills the sections in. `sharedModel`: the notebook model the demo runs.
 */
export interface DemoPanel {
  id: string;
  title: string;
  /** Writeup pages (notebook names) and the sections of them the demo belongs to. */
  sections: ReadonlyArray<[string, string]>;
  /** The link text on those pages. */
  linkText: string;
  sharedModel?: SharedModelName;
}

export const DEMO_PANELS: readonly DemoPanel[] = [
  {
    id: 'text-to-image',
    title: 'Text to image, with classifier-free guidance',
    linkText: 'text to image, step by step, with stage II',
    sections: [
      ['a0-sampling', 'A.0'],
      ['a2-iterative-denoising-and-cfg', '1.5 and 1.6'],
    ],
  },
  {
    id: 'image-to-image',
    title: 'Image to image (SDEdit) and hand-drawn edits',
    linkText: 'SDEdit on your drawing or photo',
    sections: [['a3-image-to-image', '1.7 to 1.7.3']],
  },
  { id: 'inpainting', title: 'Inpainting', linkText: 'inpainting', sections: [['a3-image-to-image', '1.7.2']] },
  {
    id: 'illusions',
    title: 'Visual anagrams and hybrid images',
    linkText: 'anagrams and hybrids of your prompts',
    sections: [['a4-illusions', '1.8 and 1.9']],
  },
  {
    id: 'denoise-digit',
    title: 'Part B1: the single-step denoiser',
    linkText: 'denoise a digit you draw',
    sections: [['b1-single-step-denoiser', 'B1']],
    sharedModel: 'denoiser',
  },
  {
    id: 'sample-digit',
    title: 'Part B2: class-conditioned sampling',
    linkText: 'class-conditioned sampling',
    sections: [['b2-diffusion-models', 'B2.4 and B2.5']],
    sharedModel: 'class-conditioned',
  },
];
