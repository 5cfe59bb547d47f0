import { DatasetSplits, ImageDataset, takePerClass } from '../data/dataset';
import { defaultTrainConfig, TrainConfig } from '../train/config';

/**
 * The built-in pretrained model of Part A: a class-conditioned UNet of the Part B family trained
 * by this project on MNIST digits and Fashion-MNIST with DeepFloyd IF's schedule (T = 1000,
 * cosine), so SPEC's Part A numbers (strided timesteps 990..0, i_start 10 = t 690) carry over.
 * Its "text encoder" is a fixed prompt list: prompt i is the one-hot vector e_i, "" is the zero
 * vector (unconditional, dropped with probability pUncond in training) and "a high quality photo"
 * is a last, generic slot trained on every kind of image (probability pGeneric).
 */

export const DIGIT_PROMPTS = Array.from({ length: 10 }, (_, d) => `a handwritten ${d}`);

export const FASHION_PROMPTS = [
  'a photo of a t-shirt',
  'a photo of trousers',
  'a photo of a pullover',
  'a photo of a dress',
  'a photo of a coat',
  'a photo of a sandal',
  'a photo of a shirt',
  'a photo of a sneaker',
  'a photo of a bag',
  'a photo of an ankle boot',
];

export const GENERIC_PROMPT = 'a high quality photo';
export const UNCONDITIONAL_PROMPT = '';

/** Prompt strings in class-slot order: 10 digits, 10 garments, the generic prompt. */
export const BUILTIN_PROMPTS: readonly string[] = [...DIGIT_PROMPTS, ...FASHION_PROMPTS, GENERIC_PROMPT];

/** Fashion-MNIST images per class in the training mix (the digits have about 850 per class). */
export const FASHION_PER_CLASS = 1000;

/** The training recipe of the shipped weights; `diffusion pretrain` uses it unless overridden. */
export function builtinTrainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...defaultTrainConfig('class'),
    hidden: 32,
    batchSize: 32,
    epochs: 6,
    lr: 1e-3,
    lrDecay: 'exponential',
    finalLrFactor: 0.1,
    T: 1000,
    schedule: 'cosine',
    numClasses: BUILTIN_PROMPTS.length,
    pUncond: 0.1,
    pGeneric: 0.1,
    pixelRange: 'symmetric',
    seed: 0,
    ...overrides,
    kind: 'class',
  };
}

/**
 * Digits (labels 0-9) and Fashion-MNIST (labels 10-19, the first FASHION_PER_CLASS of each
 * class) in one labelled set; the test split keeps every test image of both.
 */
export function builtinTrainingData(digits: DatasetSplits, fashion: DatasetSplits): DatasetSplits {
  const merge = (a: ImageDataset, b: ImageDataset): ImageDataset => {
    const images = new Float32Array(a.images.length + b.images.length);
    images.set(a.images, 0);
    images.set(b.images, a.images.length);
    const labels = new Uint8Array(a.count + b.count);
    labels.set(a.labels, 0);
    for (let i = 0; i < b.count; i++) labels[a.count + i] = b.labels[i] + 10;
    return { images, labels, count: a.count + b.count, height: 28, width: 28, classes: [...DIGIT_PROMPTS, ...FASHION_PROMPTS] };
  };
  return {
    train: merge(digits.train, takePerClass(fashion.train, FASHION_PER_CLASS)),
    test: merge(digits.test, fashion.test),
    source: {
      kind: digits.source.kind,
      description: `${digits.source.description} + Fashion-MNIST (${fashion.source.description}), ${FASHION_PER_CLASS} per class`,
    },
  };
}
