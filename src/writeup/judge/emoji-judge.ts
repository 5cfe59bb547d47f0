import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../lib/backend/tf';
import { backendInfo } from '../../lib/backend/select';
import { loadCheckpoint, saveCheckpoint } from '../../lib/checkpoint';
import { resumeEpochs, saveEpochs } from '../../lib/train/epoch-checkpoint';
import { shuffledBatches } from '../../lib/data/batches';
import { downsampleToFloat, EmojiImages } from '../../lib/data/emoji';
import { writeFileAtomic } from '../../lib/io/atomic';
import { BatchNorm2d, Conv2d, Linear, updateRunningStats } from '../../lib/nn/layers';
import { ForwardContext, Module } from '../../lib/nn/module';
import { deriveSeed, Rng } from '../../lib/random';
import { Adam, adamStep } from '../../lib/train/adam';
import { createProgress, ProgressCallback, ProgressMode } from '../../lib/progress';

/**
 * The fidelity judge of the built-in colour model: a small CNN that reads an emoji's Unicode
 * subcategory ("animal-mammal", "transport-air", "face-smiling", ... about 100 of them) from a
 * 32x32 RGB image. It learns from six drawing styles, the generator's three and three the
 * generator never saw (JUDGE_STYLES), with augmentation (shifts, scale, blur, colour), so that it
 * reads the kind of thing drawn rather than one picture. Trained on two of the judge styles alone
 * it read only 12.5% of the third's (OpenMoji) images right: too few drawings per subcategory to
 * generalise across styles. So all six are used, and how well it reads a style it never saw is
 * measured by training it once without one of them.
 */
export const JUDGE_SIZE = 32;

export class EmojiClassifier extends Module {
  private readonly convs: Array<{ conv: Conv2d; bn: BatchNorm2d; stride: number }> = [];
  private readonly fc: Linear;

  constructor(
    rng: Rng,
    readonly classes: readonly string[],
  ) {
    super();
    const plan: Array<[number, number, number]> = [
      [3, 32, 1],
      [32, 32, 2],
      [32, 64, 1],
      [64, 64, 2],
      [64, 128, 1],
      [128, 128, 2],
    ];
    plan.forEach(([i, o, s], k) => {
      const conv = this.addChild(`conv${k}`, new Conv2d(rng, i, o, 3, s, 1));
      const bn = this.addChild(`bn${k}`, new BatchNorm2d(o));
      this.convs.push({ conv, bn, stride: s });
    });
    this.fc = this.addChild('fc', new Linear(rng, 128, classes.length));
  }

  /** Logits [N, classes] for images [N, 32, 32, 3] in [0, 1]. */
  logits(x: tf.Tensor4D, ctx: ForwardContext = { training: false }): tf.Tensor2D {
    let h = tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D;
    for (const { conv, bn } of this.convs) h = tf.relu(bn.forward(conv.forward(h), ctx));
    return this.fc.forward(tf.mean(h, [1, 2]) as tf.Tensor2D);
  }

  /** Class probabilities [count, classes] of images (HWC RGB in [0, 1], clipped), in chunks. */
  probabilities(images: Float32Array, count: number, chunk = 128): Float32Array {
    const k = this.classes.length;
    const out = new Float32Array(count * k);
    const px = JUDGE_SIZE * JUDGE_SIZE * 3;
    for (let s = 0; s < count; s += chunk) {
      const e = Math.min(count, s + chunk);
      const p = tf.tidy(() => {
        const x = tf.clipByValue(tf.tensor4d(images.subarray(s * px, e * px), [e - s, JUDGE_SIZE, JUDGE_SIZE, 3]), 0, 1) as tf.Tensor4D;
        return tf.softmax(this.logits(x));
      });
      out.set(p.dataSync() as Float32Array, s * k);
      p.dispose();
    }
    return out;
  }

  /** The most probable class of each image. */
  predict(images: Float32Array, count: number): Int32Array {
    const p = this.probabilities(images, count);
    const k = this.classes.length;
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
      out[i] = best;
    }
    return out;
  }
}

/** The subcategory names of a set's entries (sorted) and each image's label. */
export function subcategoryLabels(images: EmojiImages, classes?: readonly string[]): { classes: string[]; labels: Int32Array } {
  const names = classes ? [...classes] : [...new Set(images.entries.map((e) => e.subcategory))].sort();
  const index = new Map(names.map((n, i) => [n, i]));
  const labels = new Int32Array(images.count);
  for (let i = 0; i < images.count; i++) {
    const c = index.get(images.entries[images.entry[i]].subcategory);
    if (c === undefined) throw new Error(`subcategory "${images.entries[images.entry[i]].subcategory}" is not among the judge's classes`);
    labels[i] = c;
  }
  return { classes: names, labels };
}

export interface EmojiJudgeConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export const DEFAULT_EMOJI_JUDGE_CONFIG: EmojiJudgeConfig = { epochs: 20, batchSize: 64, lr: 2e-3, seed: 0 };

/**
 * One augmented copy of an image (HWC RGB, white background): scaled by 0.8-1.1 and shifted up to
 * 3 px (nearest sampling, white outside), mirrored half the time, blurred half the time (a 3x3
 * box: generated images are soft), brightness and contrast jittered by up to 10%.
 */
export function augment(src: Float32Array, size: number, rng: Rng): Float32Array {
  const out = new Float32Array(size * size * 3);
  const scale = 0.8 + 0.3 * rng.uniform();
  const dx = (rng.uniform() * 2 - 1) * 3;
  const dy = (rng.uniform() * 2 - 1) * 3;
  const flip = rng.uniform() < 0.5;
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = Math.round(((flip ? size - 1 - x : x) - c - dx) / scale + c);
      const sy = Math.round((y - c - dy) / scale + c);
      for (let k = 0; k < 3; k++) {
        out[(y * size + x) * 3 + k] = sx >= 0 && sy >= 0 && sx < size && sy < size ? src[(sy * size + sx) * 3 + k] : 1;
      }
    }
  }
  let img = out;
  if (rng.uniform() < 0.5) {
    img = new Float32Array(out.length);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let k = 0; k < 3; k++) {
          let sum = 0;
          let n = 0;
          for (let v = -1; v <= 1; v++) {
            for (let u = -1; u <= 1; u++) {
              const yy = y + v;
              const xx = x + u;
              if (yy >= 0 && xx >= 0 && yy < size && xx < size) {
                sum += out[(yy * size + xx) * 3 + k];
                n++;
              }
            }
          }
          img[(y * size + x) * 3 + k] = sum / n;
        }
      }
    }
  }
  const contrast = 0.9 + 0.2 * rng.uniform();
  const bright = (rng.uniform() * 2 - 1) * 0.1;
  for (let i = 0; i < img.length; i++) img[i] = Math.min(1, Math.max(0, (img[i] - 0.5) * contrast + 0.5 + bright));
  return img;
}

/** Trains a classifier on images at JUDGE_SIZE px (HWC RGB in [0, 1]) with labels into `classes`. */
export function trainEmojiClassifier(
  images: Float32Array,
  labels: Int32Array,
  classes: readonly string[],
  opts: {
    config?: EmojiJudgeConfig;
    mode?: ProgressMode;
    onProgress?: ProgressCallback;
    /** Per-epoch checkpoint to resume a killed training from (see train/epoch-checkpoint.ts). */
    checkpointFile?: string;
  } = {},
): EmojiClassifier {
  const { config = DEFAULT_EMOJI_JUDGE_CONFIG, mode, onProgress, checkpointFile } = opts;
  const count = labels.length;
  const px = JUDGE_SIZE * JUDGE_SIZE * 3;
  const model = new EmojiClassifier(new Rng(deriveSeed(config.seed, 'emoji-judge-init')), classes);
  const params = model.namedParameters();
  const optimizer = new Adam(params, { lr: config.lr });
  const stepsPerEpoch = Math.floor(count / config.batchSize);
  const key = JSON.stringify({ config, classes, count });
  const startEpoch = checkpointFile ? resumeEpochs(checkpointFile, key, model, optimizer) : 0;
  const steps = stepsPerEpoch * config.epochs;
  const progress = createProgress({ phase: 'train emoji judge', total: steps, unit: 'step', mode, onProgress, initial: startEpoch * stepsPerEpoch });
  for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
    const rng = new Rng(deriveSeed(config.seed, 'emoji-judge', epoch));
    // Cosine decay of the learning rate over the run.
    optimizer.lr = config.lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / config.epochs));
    for (const idx of shuffledBatches(count, config.batchSize, rng, { dropLast: true })) {
      const batch = new Float32Array(idx.length * px);
      const target = new Float32Array(idx.length * classes.length);
      idx.forEach((i, k) => {
        batch.set(augment(images.subarray(i * px, (i + 1) * px), JUDGE_SIZE, rng), k * px);
        target[k * classes.length + labels[i]] = 1;
      });
      const stats: NonNullable<ForwardContext['batchStats']> = [];
      const loss = adamStep(optimizer, params, () => {
        const logits = model.logits(tf.tensor4d(batch, [idx.length, JUDGE_SIZE, JUDGE_SIZE, 3]), { training: true, batchStats: stats });
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.tensor2d(target, [idx.length, classes.length]), tf.logSoftmax(logits)), 1))) as tf.Scalar;
      });
      updateRunningStats(stats);
      progress.tick(1, { epoch: epoch + 1, loss });
    }
    if (checkpointFile) saveEpochs(checkpointFile, key, model, optimizer, epoch + 1);
  }
  progress.finish();
  optimizer.dispose();
  return model;
}

/** Share of images whose predicted class is the label. */
export function classifierAccuracy(model: EmojiClassifier, images: Float32Array, labels: Int32Array): number {
  const pred = model.predict(images, labels.length);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) right++;
  return right / Math.max(1, labels.length);
}

/** images at the judge's size: box-reduced from the rendered size. */
export function judgeInputs(images: EmojiImages): Float32Array {
  return downsampleToFloat(images, images.size / JUDGE_SIZE);
}

export interface EmojiJudgeRecord {
  classes: string[];
  config: EmojiJudgeConfig;
  trainedOn: string[];
  trainImages: number;
  /** Accuracy on a style left out of training (trained on the other styles). */
  heldOutStyleAccuracy: Record<string, number>;
  backend: ReturnType<typeof backendInfo>;
}

/** Saves a judge and its record (weights + judge.json) into `dir`. */
export async function saveEmojiJudge(dir: string, model: EmojiClassifier, record: EmojiJudgeRecord): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await saveCheckpoint(path.join(dir, 'emoji-judge.safetensors'), model.stateEntries(), { kind: 'emoji-classifier', classes: JSON.stringify(model.classes) });
  writeFileAtomic(path.join(dir, 'emoji-judge.json'), JSON.stringify(record, null, 2) + '\n');
}

/** Loads a judge saved by saveEmojiJudge, or returns null when `dir` has none. */
export function loadEmojiJudge(dir: string): { model: EmojiClassifier; record: EmojiJudgeRecord } | null {
  const file = path.join(dir, 'emoji-judge.safetensors');
  const info = path.join(dir, 'emoji-judge.json');
  if (!fs.existsSync(file) || !fs.existsSync(info)) return null;
  const record = JSON.parse(fs.readFileSync(info, 'utf8')) as EmojiJudgeRecord;
  const model = new EmojiClassifier(new Rng(0), record.classes);
  model.loadState(loadCheckpoint(file).values, file);
  return { model, record };
}
