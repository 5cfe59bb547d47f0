import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { backendInfo } from '../lib/backend/select';
import { EmojiImages, GENERATOR_STYLES, JUDGE_STYLES, loadEmojiImages } from '../lib/data/emoji';
import { encodePng } from '../lib/display/png';
import { imageGrid } from '../lib/display/grid';
import { writeFileAtomic } from '../lib/io/atomic';
import { outputsPath } from '../lib/io/outputs';
import { evaluatePromptFidelity, fidelityPrompts } from '../writeup/judge/emoji-fidelity';
import {
  classifierAccuracy,
  DEFAULT_EMOJI_JUDGE_CONFIG,
  EmojiClassifier,
  EmojiJudgeRecord,
  judgeInputs,
  loadEmojiJudge,
  saveEmojiJudge,
  subcategoryLabels,
  trainEmojiClassifier,
} from '../writeup/judge/emoji-judge';
import { loadEmojiCascade, loadEmojiStage1 } from '../lib/pretrained/emoji-model';
import { createProgress } from '../lib/progress';
import { runFiles, RunMetadata } from '../lib/train/trainer';

/**
 * `diffusion evaluate emoji`: the judge of the colour model (trained once on the held-out styles
 * and cached), then the prompt fidelity and memorisation of the shipped model or of a stage I run.
 */

function indicesOfStyles(images: EmojiImages, styles: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < images.count; i++) if (styles.includes(images.styles[images.style[i]])) out.push(i);
  return out;
}

/** The style held out once to measure how well the judge reads a drawing style it never saw. */
export const JUDGE_HELD_OUT_STYLE = 'twemoji';

/**
 * The judge, from the cache or trained now: first without one style (its accuracy on that style
 * is recorded), then the final judge on every style, the generator's and the three held out from it.
 */
export async function loadOrTrainEmojiJudge(generator: EmojiImages): Promise<{ model: EmojiClassifier; record: EmojiJudgeRecord; dir: string }> {
  const styles = [...GENERATOR_STYLES, ...JUDGE_STYLES];
  const images = await loadEmojiImages({ styles });
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify({ config: DEFAULT_EMOJI_JUDGE_CONFIG, versions: images.versions, styles, held: JUDGE_HELD_OUT_STYLE }))
    .digest('hex')
    .slice(0, 10);
  const dir = outputsPath('judge', `emoji-${key}`);
  const cached = loadEmojiJudge(dir);
  if (cached) return { ...cached, dir };
  // Classes: every subcategory of the generator's data.
  const { classes } = subcategoryLabels(generator);
  const inputs = judgeInputs(images);
  const { labels } = subcategoryLabels(images, classes);
  const px = inputs.length / images.count;
  const pick = (idx: number[]) => {
    const im = new Float32Array(idx.length * px);
    idx.forEach((i, k) => im.set(inputs.subarray(i * px, (i + 1) * px), k * px));
    return { images: im, labels: Int32Array.from(idx, (i) => labels[i]) };
  };
  const heldOut = JUDGE_HELD_OUT_STYLE;
  const train = pick(
    indicesOfStyles(
      images,
      styles.filter((s) => s !== heldOut),
    ),
  );
  const test = pick(indicesOfStyles(images, [heldOut]));
  process.stderr.write(`[judge] without ${heldOut}: training on ${train.labels.length} images of the other styles\n`);
  // Each training checkpoints every epoch in the judge's folder: a killed one resumes.
  const probe = trainEmojiClassifier(train.images, train.labels, classes, { checkpointFile: path.join(dir, 'training-probe.safetensors') });
  const heldOutStyleAccuracy = { [heldOut]: classifierAccuracy(probe, test.images, test.labels) };
  probe.dispose();
  process.stderr.write(`[judge] ${heldOut}, never seen: ${(heldOutStyleAccuracy[heldOut] * 100).toFixed(1)}% of ${test.labels.length} images read right\n`);
  process.stderr.write(`[judge] final judge on all ${images.count} images (${styles.join(', ')})\n`);
  const all = pick([...Array(images.count).keys()]);
  const model = trainEmojiClassifier(all.images, all.labels, classes, { checkpointFile: path.join(dir, 'training-final.safetensors') });
  const record: EmojiJudgeRecord = {
    classes,
    config: DEFAULT_EMOJI_JUDGE_CONFIG,
    trainedOn: styles,
    trainImages: images.count,
    heldOutStyleAccuracy,
    backend: backendInfo(),
  };
  await saveEmojiJudge(dir, model, record);
  for (const f of ['training-probe.safetensors', 'training-final.safetensors']) fs.rmSync(path.join(dir, f), { force: true });
  return { model, record, dir };
}

export async function runEmojiEvaluation(opts: {
  samplesPerPrompt: number;
  perSubcategory: number;
  guidance: number;
  seed: number;
  /** A stage I run folder and epoch instead of the shipped weights. */
  runDir?: string;
  epoch?: number;
  /** A stage I network file instead of the shipped weights (e.g. trained in PyTorch and imported). */
  weightsFile?: string;
  outDir?: string;
}): Promise<void> {
  const generator = await loadEmojiImages({ styles: GENERATOR_STYLES });
  const judge = await loadOrTrainEmojiJudge(generator);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  process.stderr.write(
    `[judge] ${judge.dir}: reads a style it never saw (${Object.entries(judge.record.heldOutStyleAccuracy)
      .map(([s, a]) => `${s} ${pct(a)}`)
      .join(', ')}) ` + `when trained without it\n`,
  );
  let model;
  let label: string;
  let disposeAll: () => void;
  if (opts.runDir) {
    const meta = JSON.parse(fs.readFileSync(runFiles(opts.runDir).meta, 'utf8')) as RunMetadata;
    const epoch = opts.epoch ?? meta.epochsDone;
    const s = loadEmojiStage1(runFiles(opts.runDir).epochWeights(epoch), meta.config);
    model = s;
    label = `${path.basename(opts.runDir)}-epoch-${epoch}`;
    disposeAll = () => s.stage1.dispose();
  } else if (opts.weightsFile) {
    const s = loadEmojiStage1(opts.weightsFile);
    model = s;
    label = path.basename(opts.weightsFile, '.safetensors');
    disposeAll = () => s.stage1.dispose();
  } else {
    const c = loadEmojiCascade();
    model = c;
    label = 'shipped';
    disposeAll = () => {
      c.stage1.dispose();
      c.stage2.dispose();
    };
  }
  const prompts = fidelityPrompts(generator, model.prompts, opts.perSubcategory);
  const progress = createProgress({
    phase: `sample ${prompts.length} prompts x ${opts.samplesPerPrompt}`,
    total: Math.ceil(prompts.length / 8) * 33,
    unit: 'step',
  });
  const result = evaluatePromptFidelity({
    model: model.stage1,
    encoder: model.prompts,
    judge: judge.model,
    training: generator,
    prompts,
    samplesPerPrompt: opts.samplesPerPrompt,
    guidance: opts.guidance,
    seed: opts.seed,
    onStep: () => progress.tick(1),
  });
  progress.finish();
  disposeAll();
  const m = result.memorisation;
  process.stdout.write(
    `prompt fidelity: ${pct(result.fidelity)} of ${result.prompts * result.samplesPerPrompt} CFG samples (${result.prompts} prompts, gamma ${result.guidance}) ` +
      `read as the prompt's subcategory (top 3: ${pct(result.fidelityTop3)})\n` +
      `memorisation: median distance to the nearest training image ${m.sampleNearestMedian.toFixed(3)} RMS ` +
      `(real images to the nearest other-style image: ${m.crossStyleNearestMedian.toFixed(3)}); nearest is the prompted emoji for ${pct(m.nearestIsPromptedEmoji)}; ` +
      `near copies (< 0.05) ${pct(m.nearCopies)}\n`,
  );
  const outDir = opts.outDir ?? outputsPath('eval', `emoji-${label}`);
  fs.mkdirSync(outDir, { recursive: true });
  const { samples, size, ...summary } = result;
  writeFileAtomic(path.join(outDir, 'fidelity.json'), JSON.stringify({ model: label, seed: opts.seed, judge: judge.record, ...summary }, null, 2) + '\n');
  const grid = imageGrid(
    { count: result.prompts * result.samplesPerPrompt, height: size, width: size, channels: 3, data: samples },
    { cols: result.samplesPerPrompt, scale: 2, range: [0, 1], rowLabels: result.perPrompt.map((p) => `${p.prompt} (${p.right}/${result.samplesPerPrompt})`) },
  );
  writeFileAtomic(path.join(outDir, 'samples.png'), encodePng(grid));
  process.stderr.write(`wrote ${outDir}/fidelity.json and samples.png\n`);
}
