import * as fs from 'fs';
import * as path from 'path';
import { takePerClass } from '../lib/data/dataset';
import { DatasetSplits } from '../lib/data/dataset';
import { encodeGif } from '../lib/display/gif';
import { encodePng } from '../lib/display/png';
import { RgbImage } from '../lib/display/image';
import { B1_SIGMAS, ddpmSampleGrid, denoiserResults, noisingGrid, outOfDistributionGrid, samplingFrames } from '../lib/figures/partb';
import { writeFileAtomic } from '../lib/io/atomic';
import { makeStagingFolder, removeDeadStagingFolders, replaceFolder } from '../lib/io/folders';
import { outputsPath } from '../lib/io/outputs';
import { DdpmEvaluation, describeEvaluation, evaluateDdpm } from '../lib/judge/evaluate';
import { createProgress } from '../lib/progress';
import { loadOrTrainJudge } from '../lib/judge/classifier';
import { getProfile, trainConfigFor } from '../lib/profiles';
import { Rng } from '../lib/random';
import { ddpmSchedule } from '../lib/noise-schedules';
import { MODEL_KINDS } from '../lib/train/config';
import { loadTrainedModel, runFiles, train, TrainResult, RunMetadata } from '../lib/train/trainer';

/**
 * The whole of Part B from the command line: trains (or reuses) the three models of a profile,
 * writes every Part B figure of SPEC as PNG (and the sampling GIF) under outputs/partb/<profile>/,
 * and judges the DDPMs' samples (quality against real digits; class-conditioned: the digit asked for). The folder is replaced as a whole at the
 * end, so it never mixes figures of two runs (or of two versions of a profile).
 */
export async function runPartB(opts: { profile: string; seed: number; data: DatasetSplits; outDir?: string }): Promise<void> {
  getProfile(opts.profile); // an unknown profile is an error before anything is written
  const finalDir = opts.outDir ?? outputsPath('partb', opts.profile);
  removeDeadStagingFolders(finalDir);
  const outDir = makeStagingFolder(finalDir);
  try {
    await writePartB(opts, outDir);
    replaceFolder(outDir, finalDir);
    process.stderr.write(`figures and summary.json in ${finalDir}/\n`);
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

async function writePartB(opts: { profile: string; seed: number; data: DatasetSplits }, outDir: string): Promise<void> {
  const profile = getProfile(opts.profile);
  const save = (name: string, img: RgbImage) => {
    writeFileAtomic(path.join(outDir, name), encodePng(img));
    process.stderr.write(`made ${name}\n`);
  };
  const runs: Record<string, TrainResult> = {};
  const minutes: Record<string, number> = {};
  for (const kind of MODEL_KINDS) {
    const started = Date.now();
    runs[kind] = await train({ config: trainConfigFor(kind, opts.profile, { seed: opts.seed }), data: opts.data });
    minutes[kind] = runs[kind].meta.trainingSeconds / 60;
    process.stderr.write(`${kind}: ${runs[kind].reused ? 'reused' : 'trained'} in ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
  }

  // B1: noising grid, results after the figure epochs, out-of-distribution sigmas.
  const testDigits = takePerClass(opts.data.test, 1);
  save('b1-noising.png', noisingGrid(takePerClass(opts.data.test, 1, [0, 3, 7]), B1_SIGMAS, new Rng(opts.seed)));
  const denoiser = runs.denoiser;
  for (const epoch of profile.figureEpochs.denoiser) {
    const { model } = loadTrainedModel(denoiser.runDir, epoch);
    save(`b1-denoised-epoch-${epoch}.png`, denoiserResults(model, testDigits, denoiser.meta.config.sigma, new Rng(opts.seed), `after epoch ${epoch}`));
    model.dispose();
  }
  save('b1-out-of-distribution.png', outOfDistributionGrid(denoiser.model, testDigits.images.subarray(2 * 784, 3 * 784), B1_SIGMAS, new Rng(opts.seed)));

  // B2: samples after the figure epochs; class-conditioned with CFG and an animation.
  for (const kind of ['time', 'class'] as const) {
    const run = runs[kind];
    const schedule = ddpmSchedule(run.meta.config.T);
    for (const epoch of profile.figureEpochs[kind]) {
      const { model } = loadTrainedModel(run.runDir, epoch);
      const last = epoch === run.meta.epochsDone;
      const { image, result } = ddpmSampleGrid({
        model,
        schedule,
        seed: opts.seed,
        perClass: 4,
        count: 40,
        captureEvery: last && kind === 'class' ? 10 : undefined,
        title: `${kind === 'class' ? 'class-conditioned, CFG 5' : 'time-conditioned'}, epoch ${epoch}`,
      });
      save(`b2-${kind}-samples-epoch-${epoch}.png`, image);
      if (result.frames.length > 0) {
        const gif = path.join(outDir, `b2-${kind}-sampling.gif`);
        writeFileAtomic(gif, encodeGif(samplingFrames(result), { delayMs: 80, lastFrameDelayMs: 2000 }));
        process.stderr.write(`made ${path.basename(gif)}\n`);
      }
      model.dispose();
    }
  }

  const judge = await loadOrTrainJudge({ data: opts.data, config: profile.judge });
  const evaluations: Partial<Record<'time' | 'class', DdpmEvaluation>> = {};
  for (const kind of ['time', 'class'] as const) {
    const run = runs[kind];
    const total = kind === 'class' ? profile.judgeSamplesPerClass * 10 : profile.timeSamples;
    const judging = createProgress({ phase: `judge ${total} ${kind}-conditioned samples`, total: run.meta.config.T, unit: 'step' });
    const evaluation = evaluateDdpm({
      model: run.model,
      schedule: ddpmSchedule(run.meta.config.T),
      judge: judge.model,
      data: opts.data,
      samplesPerClass: profile.judgeSamplesPerClass,
      count: profile.timeSamples,
      seed: opts.seed,
      onStep: () => judging.tick(1),
    });
    judging.finish();
    evaluations[kind] = evaluation;
    const metaFile = runFiles(run.runDir).meta;
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as RunMetadata;
    meta.evaluation = { ...evaluation, judgeTestAccuracy: judge.testAccuracy };
    writeFileAtomic(metaFile, JSON.stringify(meta, null, 2) + '\n');
    process.stdout.write(`Part B (${opts.profile}) ${kind}-conditioned: ${describeEvaluation(evaluation)}\n`);
  }

  const summary = {
    profile: opts.profile,
    seed: opts.seed,
    data: opts.data.source.description,
    judgeTestAccuracy: judge.testAccuracy,
    classConditionedAccuracy: evaluations.class?.accuracy?.overall,
    perDigit: evaluations.class?.accuracy?.perClass,
    sampleQuality: { time: evaluations.time?.quality, class: evaluations.class?.quality },
    models: Object.fromEntries(
      Object.entries(runs).map(([k, r]) => [
        k,
        {
          runDir: r.runDir,
          hidden: r.meta.config.hidden,
          epochs: r.meta.epochsDone,
          steps: r.meta.steps,
          finalEpochLoss: r.meta.epochs[r.meta.epochs.length - 1]?.meanLoss,
          trainingMinutes: minutes[k],
        },
      ]),
    ),
  };
  writeFileAtomic(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(`Part B (${opts.profile}): judge test accuracy ${(judge.testAccuracy * 100).toFixed(2)}%\n`);
  for (const r of Object.values(runs)) r.model.dispose();
}
