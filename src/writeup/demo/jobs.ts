import { tf } from '../../lib/backend/tf';
import { Pixels, toModelInput } from '../../lib/images/pixels';
import { UNet } from '../../lib/nn/unet';
import { visualAnagram } from '../../lib/pipelines/anagram';
import { sampleCfg } from '../../lib/pipelines/cfg';
import { hybridBlurSettings, hybridImage, lowpass } from '../../lib/pipelines/hybrid';
import { inpaint } from '../../lib/pipelines/inpaint';
import { DenoiseFrame } from '../../lib/pipelines/loop';
import { sdedit } from '../../lib/pipelines/sdedit';
import { stridedTimesteps } from '../../lib/scheduler';
import { upsample } from '../../lib/pipelines/upsample';
import { EmojiPrompts, EmojiTextToImage, EmojiUpsampler } from '../../lib/pretrained/emoji-model';
import { Rng } from '../../lib/random';
import { ddpmSchedule } from '../../lib/noise-schedules';
import { ddpmSample } from '../../lib/sample';
import { denoiseAtSigma } from '../../lib/single-step-denoiser';
import type { PixelRange } from '../../lib/train/config';

/**
 * What the site's live demos compute, as plain functions of (models, job): the page's Web Worker
 * calls runDemoJob in the reader's browser and the tests call the very same function in Node, so
 * one seed gives one image in both runtimes. Images go in and out as [0, 1] pixels.
 */

/** The models a demo page may have; each demo needs one of them. */
export interface DemoModels {
  /** Part A's built-in colour model: stage I with its prompt encoder, and stage II when loaded. */
  colour?: { stage1: EmojiTextToImage; prompts: EmojiPrompts; stage2?: EmojiUpsampler };
  /** Part B1's single-step denoiser. */
  denoiser?: UNet;
  /** Part B2's class-conditioned UNet (its T steps, linear schedule) and the pixel range it was trained on (default [0, 1]). */
  classConditioned?: { model: UNet; T: number; pixelRange?: PixelRange };
}

/** Steps the text-to-image demo offers: strides of SPEC's 990..0 timesteps. */
export const DEMO_STRIDES: Readonly<Record<number, number>> = { 12: 90, 23: 45, 34: 30, 67: 15 };

interface Seeded {
  seed: number;
}
interface Guided extends Seeded {
  /** CFG scale gamma (SPEC: 7). */
  guidance: number;
}
export interface TextToImageJob extends Guided {
  kind: 'text-to-image';
  prompt: string;
  /** One of DEMO_STRIDES' keys (34 = SPEC's 990, 960, ..., 0). */
  steps: number;
}
export interface UpsampleJob extends Seeded {
  kind: 'upsample';
  /** A stage I image, 32x32 RGB. */
  image: Pixels;
}
export interface EditJob extends Guided {
  kind: 'edit';
  /** Any size; square-cropped and resized to the model's size. */
  image: Pixels;
  prompt: string;
  /** Index into 990, 960, ..., 0: where denoising starts (less = more editing). */
  iStart: number;
}
export interface InpaintJob extends Guided {
  kind: 'inpaint';
  image: Pixels;
  /** 1 where new content goes; any size, resized to the model's. */
  mask: Pixels;
  prompt: string;
}
export interface AnagramJob extends Guided {
  kind: 'anagram';
  /** Seen upright, and upside down. */
  prompts: [string, string];
}
export interface HybridJob extends Guided {
  kind: 'hybrid';
  /** Seen from far (low frequencies), and up close (high frequencies). */
  prompts: [string, string];
}
export interface DenoiseDigitJob extends Seeded {
  kind: 'denoise-digit';
  /** A 28x28 gray digit, white on black like MNIST. */
  image: Pixels;
  sigma: number;
}
export interface SampleDigitJob extends Seeded {
  kind: 'sample-digit';
  digit: number;
  guidance: number;
  /** Report a frame every this many of the T steps. */
  frameEvery: number;
}

export type DemoJob = TextToImageJob | UpsampleJob | EditJob | InpaintJob | AnagramJob | HybridJob | DenoiseDigitJob | SampleDigitJob;

export interface DemoProgress {
  done: number;
  total: number;
  /** The image being denoised, when this step has one to show. */
  frame?: Pixels;
}

export interface DemoResult {
  /** What to show, in order, each with a short label. */
  images: Array<{ label: string; image: Pixels }>;
}

/** NHWC values in about [-1, 1] -> the first image as [0, 1] pixels. */
function toPixels(x: tf.Tensor4D | Float32Array, shape: readonly number[], scale: 'signed' | 'unit'): Pixels {
  const [, height, width, channels] = shape;
  const src = x instanceof Float32Array ? x : (x.dataSync() as Float32Array);
  const data = new Float32Array(height * width * channels);
  for (let i = 0; i < data.length; i++) {
    const v = scale === 'signed' ? (src[i] + 1) / 2 : src[i];
    data[i] = Math.min(1, Math.max(0, v));
  }
  return { height, width, channels, data };
}

function frameOf(f: DenoiseFrame): Pixels {
  return toPixels(f.image, f.shape, 'signed');
}

/** The denoising loop's step and frame callbacks as demo progress. */
function loopCallbacks(onProgress: (p: DemoProgress) => void): { onStep: (done: number, total: number) => void; onFrame: (f: DenoiseFrame) => void } {
  let done = 0;
  let total = 0;
  return {
    onStep: (d, n) => {
      done = d;
      total = n;
      onProgress({ done, total });
    },
    onFrame: (f) => onProgress({ done, total, frame: frameOf(f) }),
  };
}

function need<T>(model: T | undefined, what: string): T {
  if (model === undefined) throw new Error(`This demo needs ${what}, which the page has not loaded.`);
  return model;
}

function checkRange(name: string, value: number, lo: number, hi: number, integer = false): void {
  if (!Number.isFinite(value) || value < lo || value > hi || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer ' : ''}from ${lo} to ${hi}, got ${value}`);
  }
}

/** Runs one demo job; onProgress sees every step (and a frame where there is one). */
export function runDemoJob(models: DemoModels, job: DemoJob, onProgress: (p: DemoProgress) => void = () => {}): DemoResult {
  checkRange('seed', job.seed, 0, 2 ** 32 - 1, true);
  const rng = new Rng(job.seed);
  switch (job.kind) {
    case 'text-to-image':
    case 'edit':
    case 'inpaint':
    case 'anagram':
    case 'hybrid':
      return runColourJob(need(models.colour, "Part A's colour model"), job, rng, onProgress);
    case 'upsample': {
      const stage2 = need(models.colour?.stage2, "the colour model's stage II");
      const out = tf.tidy(() => {
        return upsample(stage2, { image: toModelInput(job.image, stage2.lowResSize, 3), rng, ...loopCallbacks(onProgress) });
      });
      const image = toPixels(out, out.shape, 'signed');
      out.dispose();
      return { images: [{ label: `stage II, ${image.width}x${image.height}`, image }] };
    }
    case 'denoise-digit': {
      const model = need(models.denoiser, "Part B1's denoiser");
      checkRange('sigma', job.sigma, 0, 2);
      // B1's UNet works on [0, 1] pixels (toModelInput gives [-1, 1]).
      const size = model.imageSize;
      const shape = [1, size, size, 1];
      const clean = toModelInput(job.image, size, 1);
      const values = Float32Array.from(clean.dataSync() as Float32Array, (v) => (v + 1) / 2);
      clean.dispose();
      const { noisy, denoised } = denoiseAtSigma(model, values, 1, job.sigma, rng);
      onProgress({ done: 1, total: 1 });
      return {
        images: [
          { label: 'your digit', image: toPixels(values, shape, 'unit') },
          { label: `noisy, sigma = ${job.sigma}`, image: toPixels(noisy, shape, 'unit') },
          { label: 'denoised', image: toPixels(denoised, shape, 'unit') },
        ],
      };
    }
    case 'sample-digit': {
      const { model, T, pixelRange } = need(models.classConditioned, "Part B2's class-conditioned model");
      checkRange('digit', job.digit, 0, model.config.numClasses - 1, true);
      checkRange('guidance', job.guidance, 0, 20);
      checkRange('frameEvery', job.frameEvery, 1, T, true);
      const shape = [1, model.imageSize, model.imageSize, 1];
      const res = ddpmSample({
        model,
        schedule: ddpmSchedule(T),
        classes: [job.digit],
        guidance: job.guidance,
        pixelRange,
        rng,
        workers: 0,
        captureEvery: job.frameEvery,
        onStep: (done, total) => onProgress({ done, total }),
        onFrame: (f) => onProgress({ done: T - f.t, total: T, frame: toPixels(f.images, shape, 'unit') }),
      });
      return { images: [{ label: `digit ${job.digit}, gamma = ${job.guidance}`, image: toPixels(res.images, shape, 'unit') }] };
    }
    default:
      throw new Error(`Unknown demo job ${JSON.stringify((job as { kind: unknown }).kind)}`);
  }
}

/** The five Part A demos, on the colour model (prompts checked against its vocabulary first). */
function runColourJob(
  colour: NonNullable<DemoModels['colour']>,
  job: TextToImageJob | EditJob | InpaintJob | AnagramJob | HybridJob,
  rng: Rng,
  onProgress: (p: DemoProgress) => void,
): DemoResult {
  const { stage1, prompts } = colour;
  checkRange('guidance', job.guidance, 0, 20);
  const texts = 'prompts' in job ? job.prompts : [job.prompt];
  for (const text of texts) prompts.vocabulary.encode(text); // an unknown word: the error names the nearest known ones
  const size = stage1.imageSize;
  const callbacks = loopCallbacks(onProgress);
  const out = tf.tidy(() => {
    const unconditional = prompts.embed('');
    const embed = (text: string) => prompts.embed(text);
    const common = { rng, guidance: job.guidance, unconditional, ...callbacks };
    const input = (im: Pixels) => toModelInput(im, size, stage1.channels);
    switch (job.kind) {
      case 'text-to-image': {
        const stride = DEMO_STRIDES[job.steps];
        if (stride === undefined) throw new Error(`steps must be one of ${Object.keys(DEMO_STRIDES).join(', ')}, got ${job.steps}`);
        const image = sampleCfg(stage1, { ...common, count: 1, prompt: embed(job.prompt), timesteps: stridedTimesteps(990, stride) });
        return { images: [image], labels: [`"${job.prompt}"`] };
      }
      case 'edit': {
        checkRange('iStart', job.iStart, 0, stridedTimesteps().length - 2, true);
        const image = sdedit(stage1, { ...common, image: input(job.image), prompt: embed(job.prompt), iStart: job.iStart });
        return { images: [input(job.image), image], labels: ['input', `i_start = ${job.iStart}`] };
      }
      case 'inpaint': {
        const mask = tf.cast(tf.greater(toModelInput(job.mask, size, 1), 0), 'float32');
        const image = inpaint(stage1, { ...common, image: input(job.image), mask, prompt: embed(job.prompt) });
        return { images: [input(job.image), image], labels: ['input', 'inpainted'] };
      }
      case 'anagram': {
        const image = visualAnagram(stage1, { ...common, count: 1, prompt1: embed(job.prompts[0]), prompt2: embed(job.prompts[1]), view: 'flip' });
        return { images: [image, tf.reverse(image, [1])], labels: [`"${job.prompts[0]}"`, `upside down: "${job.prompts[1]}"`] };
      }
      case 'hybrid': {
        const image = hybridImage(stage1, { ...common, count: 1, far: embed(job.prompts[0]), near: embed(job.prompts[1]) });
        const far = lowpass(image, hybridBlurSettings(size));
        return { images: [image, far], labels: [`up close: "${job.prompts[1]}"`, `from far (blurred): "${job.prompts[0]}"`] };
      }
    }
  });
  const images = out.images.map((t, i) => ({ label: out.labels[i], image: toPixels(t as tf.Tensor4D, t.shape, 'signed') }));
  for (const t of out.images) t.dispose();
  return { images };
}
