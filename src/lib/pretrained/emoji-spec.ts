import type { DatasetSplits, ImageDataset } from '../data/dataset';
import { downsampleToFloat, EmojiImages, EmojiStyle } from '../data/emoji';
import { GENERIC_CAPTION } from '../train/cascade-objectives';
import { defaultTrainConfig, TrainConfig } from '../train/config';
import { captionVocabulary, CaptionSubject, DEFAULT_CAPTION_RECIPE, longestCaption } from '../text/captions';
import { Vocabulary } from '../text/tokenizer';

/**
 * The recipe of Part A's built-in colour model, a two-stage cascade built like DeepFloyd IF and
 * trained by this project on open emoji art (data/emoji.ts):
 *  - stage I: text -> 32x32 RGB, a text encoder trained jointly with its UNet;
 *  - stage II: 32 -> 64 px super-resolution conditioned on the upsampled stage I image.
 * Both use IF's schedule (T = 1000 cosine, epsilon prediction), so SPEC's Part A numbers apply.
 * `diffusion pretrain emoji` trains both with these configs.
 */

export const STAGE1_SIZE = 32;
export const STAGE2_SIZE = 64;

/** The word each style is called by in captions ("... in twemoji style"). */
export const STYLE_WORDS: Record<EmojiStyle, string> = {
  noto: 'noto',
  twemoji: 'twemoji',
  fluent: 'fluent',
  openmoji: 'openmoji',
  emojione: 'emojione',
  'noto-v1': 'blob',
};

/** Per emoji: its names (the Unicode name first) and keywords, for captions. */
export function emojiSubjects(images: EmojiImages): CaptionSubject[] {
  return images.entries.map((e) => ({ names: [e.name, ...e.shortNames.filter((s) => s !== e.name)], keywords: e.keywords }));
}

/**
 * The vocabulary of every caption composeCaption can make for these subjects and style words,
 * plus the generic prompt's words; a token window long enough for the longest caption, at most 24.
 */
export function stage1Vocabulary(subjects: readonly CaptionSubject[], styleWords: readonly string[]): Vocabulary {
  const base = captionVocabulary(subjects, styleWords, longestCaption(subjects));
  return Vocabulary.fromTexts([...base.list, GENERIC_CAPTION], Math.min(24, base.maxTokens));
}

/** The vocabulary of the emoji set's captions. */
export function emojiVocabulary(images: EmojiImages): Vocabulary {
  return stage1Vocabulary(
    emojiSubjects(images),
    images.styles.map((s) => STYLE_WORDS[s]),
  );
}

/**
 * The emoji images as a training set at `size` px (box-reduced from the rendered 64 px), every
 * image in the training split: the model is meant to know every emoji. The test split is empty.
 */
export function emojiTrainingSet(images: EmojiImages, size: number): DatasetSplits {
  const factor = images.size / size;
  const subjects = emojiSubjects(images);
  const train: ImageDataset = {
    images: downsampleToFloat(images, factor),
    labels: Uint16Array.from(images.entry),
    count: images.count,
    height: size,
    width: size,
    channels: 3,
    classes: images.entries.map((e) => e.name),
    captions: { subjects, styleWords: images.styles.map((s) => STYLE_WORDS[s]), style: images.style },
  };
  const test: ImageDataset = {
    ...train,
    images: new Float32Array(0),
    labels: new Uint16Array(0),
    count: 0,
    captions: { ...train.captions!, style: new Uint8Array(0) },
  };
  return {
    train,
    test,
    source: {
      kind: 'npm-emoji',
      description: `${images.count} emoji images (${images.styles.join(', ')}; ${Object.entries(images.versions)
        .map(([p, v]) => `${p}@${v}`)
        .join(', ')}) at ${size} px`,
    },
  };
}

/** Stage I: the text encoder and UNet sizes, chosen by measurement (docs/part-a-models.md). */
export function stage1Config(vocabulary: Vocabulary, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const textDim = 64;
  const pooledDim = 128;
  return {
    ...defaultTrainConfig('class'),
    hidden: 32,
    batchSize: 32,
    microBatch: 16,
    epochs: 40,
    lr: 5e-4,
    lrDecay: 'exponential',
    finalLrFactor: 0.1,
    T: 1000,
    schedule: 'cosine',
    pUncond: 0.1,
    pGeneric: 0,
    pixelRange: 'symmetric',
    seed: 0,
    ...overrides,
    kind: 'text',
    cascade: {
      imageSize: STAGE1_SIZE,
      prediction: 'v',
      unet: {
        channels: 3,
        widths: [32, 64, 128],
        blocksPerLevel: 1,
        attentionLevels: [],
        midAttention: true,
        headDim: 64,
        pooledDim,
        contextDim: textDim,
        lowResInput: false,
        timeFeatures: 64,
      },
      text: { vocabSize: vocabulary.size, maxTokens: vocabulary.maxTokens, dim: textDim, layers: 2, heads: 2, pooledDim },
      vocabulary: [...vocabulary.list],
      captions: DEFAULT_CAPTION_RECIPE,
      pGeneric: 0.05,
      ...overrides.cascade,
    },
  };
}

/** Stage II: 32 -> 64 px, trained on 32 px crops of the 64 px images. */
export function stage2Config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...defaultTrainConfig('class'),
    hidden: 32,
    batchSize: 32,
    microBatch: 16,
    epochs: 24,
    lr: 5e-4,
    lrDecay: 'exponential',
    finalLrFactor: 0.1,
    T: 1000,
    schedule: 'cosine',
    pUncond: 0,
    pGeneric: 0,
    pixelRange: 'symmetric',
    seed: 0,
    ...overrides,
    kind: 'upsample',
    cascade: {
      imageSize: STAGE2_SIZE,
      prediction: 'v',
      lowResSize: STAGE1_SIZE,
      cropSize: 32,
      maxAugLevel: 400,
      unet: {
        channels: 3,
        widths: [32, 64, 64],
        blocksPerLevel: 1,
        attentionLevels: [],
        midAttention: false,
        headDim: 32,
        pooledDim: 0,
        contextDim: 0,
        lowResInput: true,
        timeFeatures: 64,
      },
      ...overrides.cascade,
    },
  };
}
