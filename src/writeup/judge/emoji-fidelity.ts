import { tf } from '../../lib/backend/tf';
import { EmojiImages } from '../../lib/data/emoji';
import { sampleCfg } from '../../lib/pipelines/cfg';
import { stridedTimesteps } from '../../lib/scheduler';
import { DiffusionModel, PromptEncoder } from '../../lib/pretrained/model';
import { deriveSeed, Rng } from '../../lib/random';
import { EmojiClassifier, JUDGE_SIZE, judgeInputs } from './emoji-judge';

/**
 * How well the built-in colour model follows prompts, and how close its samples are to its
 * training images:
 *  - fidelity: the share of CFG samples whose subcategory the judge (trained on held-out styles)
 *    reads as the prompt's;
 *  - memorisation: each sample's distance to its nearest training image (RMS over pixels in
 *    [0, 1]), beside the same distance for real images of one style to the nearest image of the
 *    other styles (two drawings of the same emoji by different artists).
 */
export interface FidelityPrompt {
  prompt: string;
  /** The emoji whose name the prompt is, and its subcategory. */
  emoji: string;
  subcategory: string;
}

/** One prompt per subcategory: the plain name of its first emoji (Unicode order), skipping names with unknown words. */
export function fidelityPrompts(images: EmojiImages, encoder: PromptEncoder, perSubcategory = 1): FidelityPrompt[] {
  const seen = new Map<string, number>();
  const out: FidelityPrompt[] = [];
  for (const e of images.entries) {
    const n = seen.get(e.subcategory) ?? 0;
    if (n >= perSubcategory || !encoder.has(e.name)) continue;
    seen.set(e.subcategory, n + 1);
    out.push({ prompt: e.name, emoji: e.name, subcategory: e.subcategory });
  }
  return out;
}

export interface FidelityResult {
  prompts: number;
  samplesPerPrompt: number;
  guidance: number;
  /** Share of samples read as the prompt's subcategory. */
  fidelity: number;
  /** Share read right within the judge's top 3. */
  fidelityTop3: number;
  perPrompt: Array<FidelityPrompt & { right: number; top3: number; judged: string[] }>;
  memorisation: {
    /** Median over samples of the RMS distance to the nearest training image. */
    sampleNearestMedian: number;
    /** Share of samples whose nearest training image is the prompted emoji itself (in any style). */
    nearestIsPromptedEmoji: number;
    /** Median RMS distance of real images of one style to the nearest image of the other styles. */
    crossStyleNearestMedian: number;
    /** Share of samples closer to a training image than 0.05 RMS (a near copy). */
    nearCopies: number;
  };
  /** The samples, HWC RGB in [0, 1] at the model's size (for figures). */
  samples: Float32Array;
  size: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

/** Nearest image (RMS distance) of each query among `bank`, optionally skipping bank images by index. */
function nearest(queries: Float32Array, qCount: number, bank: Float32Array, bankCount: number, px: number, skip?: (q: number, b: number) => boolean) {
  const dist = new Float64Array(qCount);
  const index = new Int32Array(qCount);
  for (let q = 0; q < qCount; q++) {
    let best = Infinity;
    let bi = -1;
    const qo = q * px;
    for (let b = 0; b < bankCount; b++) {
      if (skip?.(q, b)) continue;
      const bo = b * px;
      let d = 0;
      for (let i = 0; i < px && d < best; i++) {
        const v = queries[qo + i] - bank[bo + i];
        d += v * v;
      }
      if (d < best) {
        best = d;
        bi = b;
      }
    }
    dist[q] = Math.sqrt(best / px);
    index[q] = bi;
  }
  return { dist, index };
}

export function evaluatePromptFidelity(opts: {
  model: DiffusionModel;
  encoder: PromptEncoder;
  judge: EmojiClassifier;
  /** The generator's training images (for memorisation) and their entries. */
  training: EmojiImages;
  prompts: FidelityPrompt[];
  samplesPerPrompt: number;
  guidance?: number;
  seed: number;
  /** Prompts sampled per call (memory). */
  chunk?: number;
  onStep?: () => void;
}): FidelityResult {
  const { model, encoder, judge, prompts, samplesPerPrompt: k } = opts;
  const guidance = opts.guidance ?? 7;
  if (model.imageSize !== JUDGE_SIZE || model.channels !== 3)
    throw new Error(`The emoji judge reads ${JUDGE_SIZE}x${JUDGE_SIZE} RGB images; this model makes ${model.imageSize} px with ${model.channels} channel(s)`);
  const px = JUDGE_SIZE * JUDGE_SIZE * 3;
  const samples = new Float32Array(prompts.length * k * px);
  const unconditional = encoder.embed('');
  const chunk = opts.chunk ?? 8;
  for (let s = 0; s < prompts.length; s += chunk) {
    const part = prompts.slice(s, s + chunk);
    const list = part.flatMap((p) => Array.from({ length: k }, () => p.prompt));
    const emb = encoder.embedMany(list);
    const x = sampleCfg(model, {
      count: list.length,
      prompt: emb,
      unconditional,
      guidance,
      rng: new Rng(deriveSeed(opts.seed, 'fidelity', s)),
      timesteps: stridedTimesteps(),
      onStep: opts.onStep,
    });
    const unit = tf.tidy(() => tf.clipByValue(tf.div(tf.add(x, 1), 2), 0, 1));
    samples.set(unit.dataSync() as Float32Array, s * k * px);
    tf.dispose([emb, x, unit]);
  }
  unconditional.dispose();

  const probs = judge.probabilities(samples, prompts.length * k);
  const classes = judge.classes;
  const nc = classes.length;
  let right = 0;
  let right3 = 0;
  const perPrompt = prompts.map((p, pi) => {
    const want = classes.indexOf(p.subcategory);
    let r = 0;
    let r3 = 0;
    const judged: string[] = [];
    for (let j = 0; j < k; j++) {
      const row = probs.subarray((pi * k + j) * nc, (pi * k + j + 1) * nc);
      const order = [...row.keys()].sort((a, b) => row[b] - row[a]);
      judged.push(classes[order[0]]);
      if (order[0] === want) r++;
      if (order.slice(0, 3).includes(want)) r3++;
    }
    right += r;
    right3 += r3;
    return { ...p, right: r, top3: r3, judged };
  });

  // Memorisation: samples against every training image; real images against the other styles.
  const bank = judgeInputs(opts.training);
  const n = prompts.length * k;
  const near = nearest(samples, n, bank, opts.training.count, px);
  const promptedEntry = prompts.map((p) => opts.training.entries.findIndex((e) => e.name === p.emoji));
  let isPrompted = 0;
  let copies = 0;
  for (let i = 0; i < n; i++) {
    if (opts.training.entry[near.index[i]] === promptedEntry[Math.floor(i / k)]) isPrompted++;
    if (near.dist[i] < 0.05) copies++;
  }
  // Reference: the first style's images of the prompted emoji, against the other styles.
  const refIdx: number[] = [];
  for (let i = 0; i < opts.training.count; i++) {
    if (opts.training.style[i] === 0 && promptedEntry.includes(opts.training.entry[i])) refIdx.push(i);
  }
  const refs = new Float32Array(refIdx.length * px);
  refIdx.forEach((b, r) => refs.set(bank.subarray(b * px, (b + 1) * px), r * px));
  const cross = nearest(refs, refIdx.length, bank, opts.training.count, px, (q, b) => opts.training.style[b] === 0);
  return {
    prompts: prompts.length,
    samplesPerPrompt: k,
    guidance,
    fidelity: right / n,
    fidelityTop3: right3 / n,
    perPrompt,
    memorisation: {
      sampleNearestMedian: median([...near.dist]),
      nearestIsPromptedEmoji: isPrompted / n,
      crossStyleNearestMedian: median([...cross.dist]),
      nearCopies: copies / n,
    },
    samples,
    size: JUDGE_SIZE,
  };
}
