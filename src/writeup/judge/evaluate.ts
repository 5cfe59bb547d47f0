import { DatasetSplits, evenlySpaced, ImageDataset } from '../../lib/data/dataset';
import { UNet } from '../../lib/nn/unet';
import { Rng } from '../../lib/random';
import { ddpmSample, DdpmSampleResult } from '../../lib/sample';
import { NoiseSchedule } from '../../lib/noise-schedules';
import type { PixelRange } from '../../lib/train/config';
import { DigitClassifier, FEATURE_DIM } from './classifier';
import { featureStats, FeatureStats, frechetDistance } from './frechet';

export interface ClassAccuracy {
  /** Share of all samples classified as the digit asked for. */
  overall: number;
  /** Per digit 0..9. */
  perClass: number[];
  samplesPerClass: number;
  guidance: number;
  seed: number;
  /** judge confusion: confusion[asked][predicted] counts. */
  confusion: number[][];
}

/** How much sampled digits look like real ones, read by the judge (see measureSampleQuality). */
export interface SampleQuality {
  /** Number of samples measured. */
  count: number;
  /** Frechet distance between the samples' judge features and the reference digits' (lower is better). */
  frechet: number;
  /**
   * The same distance for `count` real held-out digits: what a model whose samples are real digits
   * scores at this N (the distance of a finite sample is never 0).
   */
  realFloor: number;
  /** frechet / realFloor (1 = as close as real digits). */
  ratio: number;
  /** Share of samples the judge reads as some digit with probability >= confidenceThreshold. */
  confidentShare: number;
  /** The same share for the real digits of realFloor. */
  realConfidentShare: number;
  confidenceThreshold: number;
  /** Mean of the judge's highest class probability over the samples. */
  meanConfidence: number;
  /** How many samples the judge reads as each digit. */
  predicted: number[];
  /** The reference: digits of the training split whose features the distances compare with. */
  referenceCount: number;
}

/** A DDPM's samples judged: their quality, and for class-conditioned models how often they are the digit asked for. */
export interface DdpmEvaluation {
  conditioning: 'time' | 'class';
  seed: number;
  /** Denoising steps from T to 0 (T: every timestep, SPEC's sampler). */
  steps: number;
  /** CFG scale (class-conditioned). */
  guidance?: number;
  quality: SampleQuality;
  accuracy?: ClassAccuracy;
}

/** Default confidence threshold of SampleQuality.confidentShare. */
export const CONFIDENT = 0.9;

/**
 * Reference statistics and the real-digit floor for `count` samples: the judge's features of the
 * data set's training digits, and of `count` test digits evenly spaced over the test split.
 */
export function realDigitBaseline(
  judge: DigitClassifier,
  data: DatasetSplits,
  count: number,
): {
  reference: FeatureStats;
  real: { stats: FeatureStats; probabilities: Float32Array; count: number };
} {
  const reference = referenceStats(judge, data.train);
  const picked = evenlySpaced(data.test, Math.min(count, data.test.count));
  const real = judge.read(picked.images, picked.count);
  return { reference, real: { stats: featureStats(real.features, picked.count, FEATURE_DIM), probabilities: real.probabilities, count: picked.count } };
}

/** The judge's feature statistics of a training set, computed once per judge and data set (a report judges two models). */
const referenceCache = new WeakMap<DigitClassifier, WeakMap<ImageDataset, FeatureStats>>();

function referenceStats(judge: DigitClassifier, train: ImageDataset): FeatureStats {
  let byData = referenceCache.get(judge);
  if (!byData) referenceCache.set(judge, (byData = new WeakMap()));
  let stats = byData.get(train);
  if (!stats) {
    stats = featureStats(judge.read(train.images, train.count).features, train.count, FEATURE_DIM);
    byData.set(train, stats);
  }
  return stats;
}

/**
 * The judge's reading of `count` sampled 28x28 digits against real ones: the Frechet distance in
 * its feature space to the training digits, the floor real test digits reach at the same N, and
 * how confidently it reads the samples as digits at all.
 */
export function measureSampleQuality(opts: {
  judge: DigitClassifier;
  data: DatasetSplits;
  samples: Float32Array;
  count: number;
  confidenceThreshold?: number;
}): SampleQuality & { predictedClass: Int32Array } {
  const { judge, data, count } = opts;
  const threshold = opts.confidenceThreshold ?? CONFIDENT;
  const { reference, real } = realDigitBaseline(judge, data, count);
  const read = judge.read(opts.samples, count);
  const frechet = frechetDistance(featureStats(read.features, count, FEATURE_DIM), reference);
  const realFloor = frechetDistance(real.stats, reference);
  const k = judge.numClasses;
  const predictedClass = new Int32Array(count);
  const predicted = new Array<number>(k).fill(0);
  let confident = 0;
  let confidenceSum = 0;
  for (let i = 0; i < count; i++) {
    const { index, value } = argMax(read.probabilities, i * k, k);
    predictedClass[i] = index;
    predicted[index] += 1;
    confidenceSum += value;
    if (value >= threshold) confident += 1;
  }
  let realConfident = 0;
  for (let i = 0; i < real.count; i++) if (argMax(real.probabilities, i * k, k).value >= threshold) realConfident += 1;
  return {
    count,
    frechet,
    realFloor,
    ratio: frechet / realFloor,
    confidentShare: confident / count,
    realConfidentShare: realConfident / real.count,
    confidenceThreshold: threshold,
    meanConfidence: confidenceSum / count,
    predicted,
    referenceCount: reference.count,
    predictedClass,
  };
}

/**
 * Samples a time- or class-conditioned DDPM and judges the samples (SPEC B2.3 and B2.5): their
 * quality against real digits (measureSampleQuality) and, class-conditioned, the share the judge
 * classifies as the digit asked for, overall and per digit (CFG with `guidance`, SPEC: 5).
 * Returns the samples too (class-conditioned: `samplesPerClass` of digit 0, then of 1, ...), for
 * figures of the very samples judged; they are not part of the evaluation record.
 */
export function evaluateDdpm(opts: {
  model: UNet;
  schedule: NoiseSchedule;
  judge: DigitClassifier;
  /** The digits the reference and the floor come from (the model's training data). */
  data: DatasetSplits;
  /** Time-conditioned: number of samples (default 300). */
  count?: number;
  /** Class-conditioned: samples of each digit (default 30). */
  samplesPerClass?: number;
  guidance?: number;
  /** Denoising steps (default T) and the model's pixel range, as ddpmSample takes them. */
  steps?: number;
  pixelRange?: PixelRange;
  seed: number;
  onStep?: (done: number, total: number) => void;
}): DdpmEvaluation & { samples: DdpmSampleResult } {
  const conditioning = opts.model.config.conditioning;
  if (conditioning === 'none') throw new Error('evaluateDdpm judges samples of a time- or class-conditioned UNet; the single-step denoiser does not sample.');
  const numClasses = opts.model.config.numClasses;
  const samplesPerClass = opts.samplesPerClass ?? 30;
  const classes: number[] = [];
  if (conditioning === 'class') for (let c = 0; c < numClasses; c++) for (let k = 0; k < samplesPerClass; k++) classes.push(c);
  const guidance = opts.guidance ?? 5;
  const samples = ddpmSample({
    model: opts.model,
    schedule: opts.schedule,
    rng: new Rng(opts.seed),
    steps: opts.steps,
    pixelRange: opts.pixelRange,
    onStep: opts.onStep,
    ...(conditioning === 'class' ? { classes, guidance } : { count: opts.count ?? 300 }),
  });
  const { images, count, steps } = samples;
  const { predictedClass, ...quality } = measureSampleQuality({ judge: opts.judge, data: opts.data, samples: images, count });
  if (conditioning === 'time') return { conditioning, seed: opts.seed, steps, quality, samples };
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < count; i++) confusion[classes[i]][predictedClass[i]] += 1;
  const perClass = confusion.map((row, c) => row[c] / samplesPerClass);
  const overall = perClass.reduce((a, b) => a + b, 0) / numClasses;
  return {
    conditioning,
    seed: opts.seed,
    steps,
    guidance,
    quality,
    accuracy: { overall, perClass, samplesPerClass, guidance, seed: opts.seed, confusion },
    samples,
  };
}

function argMax(values: Float32Array, offset: number, length: number): { index: number; value: number } {
  let index = 0;
  for (let j = 1; j < length; j++) if (values[offset + j] > values[offset + index]) index = j;
  return { index, value: values[offset + index] };
}

/** One line of an evaluation's numbers, for terminals and logs. */
export function describeEvaluation(ev: DdpmEvaluation): string {
  const q = ev.quality;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  let line =
    `${q.count} ${ev.conditioning === 'class' ? `CFG (gamma ${ev.guidance}) ` : ''}samples (${ev.steps} steps): Frechet distance ${q.frechet.toFixed(1)} ` +
    `(${q.count} real digits: ${q.realFloor.toFixed(1)}, so ${q.ratio.toFixed(2)}x the floor); ` +
    `read confidently (p >= ${q.confidenceThreshold}) ${pct(q.confidentShare)} (real digits ${pct(q.realConfidentShare)})`;
  if (ev.accuracy) {
    const perDigit = ev.accuracy.perClass.map((a, d) => `${d}:${Math.round(a * 100)}%`).join(' ');
    line += `; judged as the digit asked for ${pct(ev.accuracy.overall)} (${perDigit})`;
  }
  return line;
}
