import { tf } from '../backend/tf';
import { gatherImages, gatherLabels } from '../data/batches';
import type { ImageDataset } from '../data/dataset';
import { CascadeUNet } from '../nn/cascade-unet';
import { ForwardContext } from '../nn/module';
import { TextToImageNet } from '../nn/text-to-image';
import { Rng } from '../random';
import { resize } from '../images/pixels';
import { addNoise, noiseLevels, velocity } from '../scheduler';
import { NoiseSchedule } from '../noise-schedules';
import { composeCaption, DEFAULT_CAPTION_RECIPE } from '../text/captions';
import { Vocabulary, words } from '../text/tokenizer';
import { CascadeSpec, TrainConfig } from './config';
import { BatchDraw } from './objectives';

/**
 * Training batches and losses of the built-in cascade:
 *  - stage I ("text"): x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps with x_0 the 32 px image in
 *    [-1, 1] and a fresh caption per draw (the empty prompt with probability pUncond, the generic
 *    prompt with probability pGeneric); loss = mean (out_theta(x_t, t, caption) - target)^2.
 *  - stage II ("upsample"): the 64 px image is box-reduced to 32 px (what stage I makes), enlarged
 *    again bilinearly and noised to a random augmentation level s (IF's noise augmentation, so
 *    stage II learns to clean up stage I's small errors); x_0 is a random crop of the 64 px image
 *    and the low-res input the same crop; loss = mean (out_theta(x_t, t, low-res, s) - target)^2.
 * The target is eps (epsilon prediction, as DeepFloyd IF) or v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0
 * (v prediction): near t = T, x_0 enters x_t with weight sqrt(abar_t) ~ 0.01, so an eps loss
 * says almost nothing there about the picture (or the prompt), while v is mostly -x_0.
 */

/** The prompt that stands for any image ("a high quality photo", SPEC 1.5). */
export const GENERIC_CAPTION = 'a high quality photo';

const vocabularies = new WeakMap<CascadeSpec, Vocabulary>();

/** The vocabulary a stage I config was trained with (built once per config object). */
export function vocabularyOf(spec: CascadeSpec): Vocabulary {
  let v = vocabularies.get(spec);
  if (!v) {
    if (!spec.vocabulary || !spec.text) throw new Error('This cascade stage has no text encoder (only stage I does)');
    v = new Vocabulary(spec.vocabulary, spec.text.maxTokens);
    vocabularies.set(spec, v);
  }
  return v;
}

function spec(config: TrainConfig): CascadeSpec {
  if (!config.cascade) throw new Error(`A ${config.kind} run needs its cascade spec`);
  return config.cascade;
}

/**
 * Draws the random parts of a cascade batch from `set` (images gathered at `indices`), with the
 * schedule the stage trains with: timesteps over its range, and (stage II) the noise
 * augmentation of the low-res image at its levels.
 */
export function drawCascadeBatch(config: TrainConfig, schedule: NoiseSchedule, set: ImageDataset, indices: ArrayLike<number>, rng: Rng): BatchDraw {
  if ((set.channels ?? 1) !== 3) throw new Error(`The cascade trains on RGB images; this set has ${set.channels ?? 1} channel(s)`);
  return config.kind === 'text' ? drawTextBatch(config, schedule, set, indices, rng) : drawUpsampleBatch(config, schedule, set, indices, rng);
}

/** One timestep per image, uniform over the schedule's range. */
function drawTimesteps(schedule: NoiseSchedule, count: number, rng: Rng): Int32Array {
  const { first } = noiseLevels(schedule);
  const timesteps = new Int32Array(count);
  for (let i = 0; i < count; i++) timesteps[i] = first + rng.int(schedule.T);
  return timesteps;
}

function drawTextBatch(config: TrainConfig, schedule: NoiseSchedule, set: ImageDataset, indices: ArrayLike<number>, rng: Rng): BatchDraw {
  const s = spec(config);
  const captions = set.captions;
  if (!captions) throw new Error('Stage I trains on named images: the data set has no captions (load it with emojiTrainingSet)');
  if (set.height !== s.imageSize) throw new Error(`Stage I trains at ${s.imageSize} px; the data set has ${set.height} px images`);
  const images = gatherImages(set, indices);
  const labels = gatherLabels(set, indices);
  const count = indices.length;
  const noise = rng.normalArray(images.length);
  const timesteps = drawTimesteps(schedule, count, rng);
  const vocab = vocabularyOf(s);
  const tokens = new Int32Array(count * vocab.maxTokens);
  const pGeneric = s.pGeneric ?? 0;
  for (let i = 0; i < count; i++) {
    const u = rng.uniform();
    let caption = '';
    if (u >= config.pUncond && u < config.pUncond + pGeneric) caption = GENERIC_CAPTION;
    else if (u >= config.pUncond + pGeneric) {
      caption = composeCaption(captions.subjects[labels[i]], captions.styleWords[captions.style[indices[i]]], rng, s.captions ?? DEFAULT_CAPTION_RECIPE);
    }
    tokens.set(vocab.idsOf(words(caption)), i * vocab.maxTokens);
  }
  return { images, labels, count, size: set.height, noise, timesteps, tokens };
}

/**
 * What stage II sees of a high-resolution image: reduced to the low-res size (area average: what
 * stage I learns to make) and enlarged back bilinearly (pixel centres aligned, edges clamped, like
 * PyTorch's interpolate(align_corners=False)). HWC RGB in, HWC RGB out, same size.
 */
export function enlargeLowRes(image: Float32Array, size: number, lowResSize: number): Float32Array {
  const low = resize({ height: size, width: size, channels: 3, data: image }, lowResSize, lowResSize);
  return resize(low, size, size).data;
}

function drawUpsampleBatch(config: TrainConfig, schedule: NoiseSchedule, set: ImageDataset, indices: ArrayLike<number>, rng: Rng): BatchDraw {
  const s = spec(config);
  const size = s.imageSize;
  const crop = s.cropSize!;
  if (set.height !== size) throw new Error(`Stage II trains on ${size} px images; the data set has ${set.height} px images`);
  const count = indices.length;
  const full = gatherImages(set, indices);
  const px = size * size * 3;
  const cropPx = crop * crop * 3;
  const images = new Float32Array(count * cropPx);
  const lowRes = new Float32Array(count * cropPx);
  const augLevels = new Int32Array(count);
  const abar = schedule.alphasCumprod;
  for (let i = 0; i < count; i++) {
    const hi = full.subarray(i * px, (i + 1) * px);
    const up = enlargeLowRes(hi, size, s.lowResSize!);
    // Noise augmentation of the whole enlarged image, in [-1, 1].
    const level = rng.int(s.maxAugLevel! + 1);
    augLevels[i] = level;
    const a = Math.sqrt(abar[level]);
    const b = Math.sqrt(1 - abar[level]);
    const y0 = rng.int(size - crop + 1);
    const x0 = rng.int(size - crop + 1);
    for (let y = 0; y < crop; y++) {
      for (let x = 0; x < crop * 3; x++) {
        const from = ((y0 + y) * size + x0) * 3 + x;
        const to = i * cropPx + y * crop * 3 + x;
        images[to] = hi[from];
        lowRes[to] = a * (2 * up[from] - 1) + b * rng.normal();
      }
    }
  }
  const noise = rng.normalArray(images.length);
  const timesteps = drawTimesteps(schedule, count, rng);
  return { images, labels: gatherLabels(set, indices), count, size: crop, noise, timesteps, lowRes, augLevels };
}

/** The loss of one (micro-)batch of a cascade stage. */
export function cascadeBatchLoss(
  net: TextToImageNet | CascadeUNet,
  config: TrainConfig,
  schedule: NoiseSchedule,
  d: BatchDraw,
  ctx: ForwardContext,
): tf.Scalar {
  if (!d.timesteps) throw new Error('cascadeBatchLoss: the draw has no timesteps');
  const shape: [number, number, number, number] = [d.count, d.size, d.size, 3];
  const x0 = tf.sub(tf.mul(tf.tensor4d(d.images, shape), 2), 1) as tf.Tensor4D;
  const eps = tf.tensor4d(d.noise, shape);
  const xt = addNoise(x0, eps, d.timesteps, schedule);
  const target = spec(config).prediction === 'v' ? velocity(x0, eps, d.timesteps, schedule) : eps;
  let pred: tf.Tensor4D;
  if (config.kind === 'text') {
    if (!(net instanceof TextToImageNet) || !d.tokens) throw new Error('cascadeBatchLoss: stage I needs its TextToImageNet and token ids');
    pred = net.forward({ x: xt, t: d.timesteps, ids: d.tokens }, ctx);
  } else {
    if (!(net instanceof CascadeUNet) || !d.lowRes || !d.augLevels)
      throw new Error('cascadeBatchLoss: stage II needs its UNet, the low-res images and their augmentation levels');
    pred = net.forward({ x: xt, t: d.timesteps, lowRes: tf.tensor4d(d.lowRes, shape), augLevel: d.augLevels }, ctx);
  }
  return tf.mean(tf.squaredDifference(pred, target)) as tf.Scalar;
}
