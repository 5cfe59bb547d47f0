import { FloatImages, RgbImage } from '../../lib/display/image';
import { imageGrid } from '../../lib/display/grid';
import { ImageDataset } from '../../lib/data/dataset';
import { denoiseAtSigma } from '../../lib/single-step-denoiser';
import { UNet } from '../../lib/nn/unet';
import { Rng } from '../../lib/random';
import { ddpmSample, DdpmSampleResult } from '../../lib/sample';
import { NoiseSchedule } from '../../lib/noise-schedules';
import type { PixelRange } from '../../lib/train/config';

/**
 * The Part B figures as images: each function returns data (an RGB image and, where useful,
 * the numbers behind it); callers decide where to show or save them.
 */

/** SPEC B1's noise levels for the noising and out-of-distribution grids. */
export const B1_SIGMAS = [0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0];

/** A batch of gray square images (Part B's data and samples) for imageGrid. */
const gray = (count: number, size: number, data: Float32Array): FloatImages => ({ count, height: size, width: size, channels: 1, data });

/** z = x + sigma eps for each image (rows) and each sigma (columns). */
export function noisingGrid(images: ImageDataset, sigmas: number[], rng: Rng): RgbImage {
  const pixels = images.height * images.width;
  const out = new Float32Array(images.count * sigmas.length * pixels);
  for (let i = 0; i < images.count; i++) {
    for (let j = 0; j < sigmas.length; j++) {
      const o = (i * sigmas.length + j) * pixels;
      for (let p = 0; p < pixels; p++) out[o + p] = images.images[i * pixels + p] + sigmas[j] * rng.normal();
    }
  }
  return imageGrid(gray(images.count * sigmas.length, images.height, out), {
    cols: sigmas.length,
    colLabels: sigmas.map((s) => `sigma=${s}`),
  });
}

/** Rows: clean test digits, their noisy versions at sigma, and the denoiser's outputs. */
export function denoiserResults(model: UNet, images: ImageDataset, sigma: number, rng: Rng, title?: string): RgbImage {
  const { noisy, denoised } = denoiseAtSigma(model, images.images, images.count, sigma, rng);
  const values = images.images.length;
  const all = new Float32Array(3 * values);
  all.set(images.images, 0);
  all.set(noisy, values);
  all.set(denoised, 2 * values);
  return imageGrid(gray(3 * images.count, images.height, all), {
    cols: images.count,
    rowLabels: ['input', `noisy ${sigma}`, 'output'],
    title,
  });
}

/** One digit noised at each sigma (row 1) and the denoiser's output for each (row 2). */
export function outOfDistributionGrid(model: UNet, image: Float32Array, sigmas: number[], rng: Rng): RgbImage {
  const n = sigmas.length;
  const size = model.imageSize;
  const pixels = size * size;
  const noisy = new Float32Array(n * pixels);
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < pixels; p++) noisy[j * pixels + p] = image[p] + sigmas[j] * rng.normal();
  }
  // denoiseAtSigma adds its own noise; sigma 0 here passes our noisy images through unchanged.
  const { denoised } = denoiseAtSigma(model, noisy, n, 0, rng);
  const all = new Float32Array(2 * n * pixels);
  all.set(noisy, 0);
  all.set(denoised, n * pixels);
  return imageGrid(gray(2 * n, size, all), {
    cols: n,
    colLabels: sigmas.map((s) => `sigma=${s}`),
    rowLabels: ['noisy', 'denoised'],
  });
}

/** Samples of a DDPM: a grid, plus the raw result (frames for an animation, if captured). */
export function ddpmSampleGrid(opts: {
  model: UNet;
  schedule: NoiseSchedule;
  seed: number;
  /** Class-conditioned: samples of every digit, one column per digit. */
  perClass?: number;
  /** Time-conditioned: number of samples. */
  count?: number;
  guidance?: number;
  /** Denoising steps (default T) and the model's pixel range, as ddpmSample takes them. */
  steps?: number;
  pixelRange?: PixelRange;
  captureEvery?: number;
  title?: string;
  onStep?: (done: number, total: number) => void;
}): { image: RgbImage; result: DdpmSampleResult } {
  const isClass = opts.model.config.conditioning === 'class';
  const perClass = opts.perClass ?? 4;
  const classes = isClass ? Array.from({ length: 10 * perClass }, (_, i) => i % 10) : undefined;
  const result = ddpmSample({
    model: opts.model,
    schedule: opts.schedule,
    rng: new Rng(opts.seed),
    classes,
    count: opts.count ?? 40,
    guidance: opts.guidance,
    steps: opts.steps,
    pixelRange: opts.pixelRange,
    captureEvery: opts.captureEvery,
    onStep: opts.onStep,
  });
  const digits = isClass ? Array.from({ length: 10 }, (_, i) => String(i)) : undefined;
  return { image: samplesGrid(result, { count: result.count, title: opts.title, colLabels: digits }), result };
}

/**
 * The first `count` (default 40) of samples already drawn, in rows of 10 (with `colLabels` over
 * the columns): a figure of the very samples that were judged, without sampling again.
 */
export function samplesGrid(result: DdpmSampleResult, opts: { count?: number; title?: string; colLabels?: string[] } = {}): RgbImage {
  const count = Math.min(opts.count ?? 40, result.count);
  const per = result.size * result.size;
  return imageGrid(gray(count, result.size, result.images.subarray(0, count * per)), { cols: 10, title: opts.title, colLabels: opts.colLabels });
}

/**
 * Class-conditioned samples at several guidance scales: a row per scale, a column per digit,
 * each the first sample of that digit in its run (samples grouped by digit, `perClass` each, as
 * evaluateDdpm draws them; with one seed, every row starts from the same noise).
 */
export function guidanceRowsGrid(rows: Array<{ guidance: number; samples: DdpmSampleResult; perClass: number }>, opts: { title?: string } = {}): RgbImage {
  if (rows.length === 0) throw new Error('guidanceRowsGrid: give at least one guidance scale');
  const { size } = rows[0].samples;
  const per = size * size;
  const digits = rows[0].samples.count / rows[0].perClass;
  const out = new Float32Array(rows.length * digits * per);
  rows.forEach((row, r) => {
    if (row.samples.size !== size || row.samples.count !== digits * row.perClass) {
      throw new Error(`guidanceRowsGrid: every row needs ${digits} digits of ${size}x${size} samples, ${row.perClass} each`);
    }
    for (let d = 0; d < digits; d++) out.set(row.samples.images.subarray(d * row.perClass * per, (d * row.perClass + 1) * per), (r * digits + d) * per);
  });
  return imageGrid(gray(rows.length * digits, size, out), {
    cols: digits,
    title: opts.title,
    colLabels: Array.from({ length: digits }, (_, d) => String(d)),
    rowLabels: rows.map((r) => `gamma ${r.guidance}`),
  });
}

/** Frames of a sampling run as grid images, for encodeGif. */
export function samplingFrames(result: DdpmSampleResult, cols = 10): RgbImage[] {
  return result.frames.map((f) => imageGrid(gray(result.count, result.size, f.images), { cols, scale: 2, title: `t = ${f.t}` }));
}
