import { spawnSync } from 'child_process';
import * as os from 'os';
import { Command, Option } from 'commander';
import { intOption, textOption, UsageError } from '../cli/options';
import { tf } from '../lib/backend/tf';
import { BackendInfo, initBackend } from '../lib/backend/select';
import { writeFileAtomic } from '../lib/io/atomic';
import { getProfile, trainConfigFor } from '../writeup/profiles';
import { Rng } from '../lib/random';
import { Adam } from '../lib/train/adam';
import { MODEL_KINDS, ModelKind, TrainConfig } from '../lib/train/config';
import { drawBatch } from '../lib/train/objectives';
import { GradientWorkers } from '../lib/train/gradient-workers';
import { sampleWorkerCount, UNetWorkers } from '../lib/nn/unet-workers';
import { autoMicroBatch, trainStep, trainStepParallel } from '../lib/train/trainer';
import { createModel, scheduleFor } from '../lib/train/networks';
import { demoBenchCommand } from './demo-bench';
import { versions } from '../lib/versions';

/**
 * `npm run bench`: training and sampling throughput and peak memory of each Part B UNet, at the
 * quick profile's sizes and at SPEC's (full) sizes. Each case runs in its own process so its peak
 * resident memory is its own (the wasm heap never shrinks).
 */

/** quick and full: the profiles' UNet sizes; custom: --hidden and --batch. */
type BenchSize = 'quick' | 'full' | 'custom';

export interface BenchCase {
  kind: ModelKind;
  size: BenchSize;
  hidden: number;
  batchSize: number;
  microBatch: number;
  trainImagesPerSec: number;
  /**
   * Training images per second of this process's CPU time (user + system). On a machine shared
   * with other work this is steadier than the wall-clock figure; with one compute thread it
   * estimates the uncontended rate (with more threads it is lower than the wall-clock rate).
   */
  trainImagesPerCpuSec: number;
  /** UNet evaluations per second while sampling (a CFG step counts 2 per image). */
  sampleImagesPerSec: number;
  peakRssMB: number;
  backend: string;
  threads: number;
  /** Gradient worker threads (0 = gradients computed in the main thread). */
  workers: number;
  /** UNet worker threads while sampling (0 = the main thread), as ddpmSample picks them. */
  sampleWorkers: number;
}

interface BenchOptions {
  sizes: string;
  models: string;
  steps: number;
  workers?: number;
  hidden?: string;
  batch: number;
  json?: string;
  one?: string;
}

/** `diffusion bench` (npm run bench): the UNets' training and sampling speed; `bench demos`: the site's live demos. */
export function benchCommand(): Command {
  const bench = new Command('bench').description("Benchmarks: each UNet's training and sampling speed and peak memory (the default), or the live demos");
  bench.addCommand(
    new Command('unets')
      .description('(the default) training and sampling speed and peak memory of each UNet on this backend')
      .addOption(textOption('--sizes <list>', "quick,full: the quick profile's and SPEC's UNet sizes", 'quick,full'))
      .addOption(textOption('--models <list>', 'denoiser,time,class', MODEL_KINDS.join(',')))
      .addOption(
        textOption(
          '--hidden <list>',
          'instead of --sizes: these widths D (e.g. 16,32,64), each with --batch images per step split into one micro-batch per core (at most what training would pick for that width)',
        ),
      )
      .addOption(intOption('--batch <n>', 'images per step with --hidden', 1, 65_536, 64))
      .addOption(intOption('--steps <n>', 'timed training steps per case after one warm-up step', 1, 10_000, 2))
      .addOption(
        intOption(
          '--workers <n>',
          'gradient and sampling workers (default: as training and ddpmSample pick them: DIFFUSION_TRAIN_WORKERS, DIFFUSION_SAMPLE_WORKERS, or one per core)',
          0,
          64,
        ),
      )
      .addOption(textOption('--json <file>', 'also write the figures as JSON'))
      .addOption(new Option('--one <case>', 'run one case in this process (what the benchmark runs in each child)').hideHelp())
      .action(runBench),
    { isDefault: true },
  );
  bench.addCommand(demoBenchCommand());
  return bench;
}

async function runBench(values: BenchOptions): Promise<void> {
  const steps = values.steps;
  const workers = values.workers;
  const workerArgs = workers === undefined ? [] : ['--workers', String(workers)];
  if (values.one) {
    // Child mode: run one case and print its JSON on the last line.
    const [kind, size, hidden, batch] = values.one.split(':') as [ModelKind, BenchSize, string?, string?];
    const custom = size === 'custom' ? { hidden: Number(hidden), batchSize: Number(batch) } : undefined;
    const result = await benchCase(kind, size, steps, workers, custom);
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const models = values.models.split(',') as ModelKind[];
  for (const m of models) if (!MODEL_KINDS.includes(m)) throw new UsageError(`--models: unknown model "${m}"`);
  // Each case as the child's --one argument: kind:size, or kind:custom:D:batch.
  const cases: string[] = [];
  if (values.hidden) {
    const batch = values.batch;
    for (const h of values.hidden.split(',')) {
      const hidden = Number(h);
      if (!Number.isInteger(hidden) || hidden < 1) throw new UsageError(`--hidden: "${h}" is not a width (a positive integer such as 16)`);
      for (const kind of models) cases.push(`${kind}:custom:${hidden}:${batch}`);
    }
  } else {
    const sizes = values.sizes.split(',');
    for (const s of sizes) if (s !== 'quick' && s !== 'full') throw new UsageError(`--sizes: unknown size "${s}" (quick or full)`);
    for (const size of sizes) for (const kind of models) cases.push(`${kind}:${size}`);
  }

  const results: BenchCase[] = [];
  printRow(['model', 'size', 'D', 'batch', 'micro', 'train img/s', 'img/cpu-s', 'sample img/s', 'peak RSS MB', 'backend']);
  for (const one of cases) {
    const child = spawnSync(process.execPath, [process.argv[1], 'bench', '--one', one, '--steps', String(steps), ...workerArgs], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lastLine = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !lastLine.startsWith('{')) {
      throw new Error(`bench case ${one} failed:\n${child.stderr}`);
    }
    const r = JSON.parse(lastLine) as BenchCase;
    results.push(r);
    printRow([
      r.kind,
      r.size,
      String(r.hidden),
      String(r.batchSize),
      String(r.microBatch),
      r.trainImagesPerSec.toFixed(1),
      r.trainImagesPerCpuSec.toFixed(1),
      r.sampleImagesPerSec.toFixed(1),
      r.peakRssMB.toFixed(0),
      `${r.backend} (${r.threads} thread${r.threads > 1 ? 's' : ''}, workers: ${r.workers} train, ${r.sampleWorkers} sample)`,
    ]);
  }
  if (values.json) {
    const report = { date: new Date().toISOString(), versions: versions(), steps, results };
    writeFileAtomic(values.json, JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(`wrote ${values.json}\n`);
  }
}

async function benchCase(
  kind: ModelKind,
  size: BenchSize,
  steps: number,
  requestedWorkers?: number,
  custom?: { hidden: number; batchSize: number },
): Promise<BenchCase> {
  const backend: BackendInfo = await initBackend({ quiet: true });
  let config: TrainConfig;
  if (custom) {
    // Micro-batches within the size training would pick for this width (the wasm heap's limit),
    // as many per core (gradient worker) on every core: 64 at D=128 (limit 24) is 4 x 16 on 2
    // cores, not 24 + 24 + 16, which leaves one worker idle half the step.
    const cores = os.availableParallelism();
    const limit = autoMicroBatch(trainConfigFor(kind, 'full', { ...custom, microBatch: 0 }), backend.name);
    const parts = Math.ceil(Math.max(cores, Math.ceil(custom.batchSize / limit)) / cores) * cores;
    config = trainConfigFor(kind, 'full', { ...custom, microBatch: Math.max(1, Math.ceil(custom.batchSize / parts)) });
  } else {
    getProfile(size);
    config = trainConfigFor(kind, size);
  }
  const model = createModel(config);
  const optimizer = new Adam(model.namedParameters(), { lr: config.lr });
  const schedule = scheduleFor(config);
  const microBatch = autoMicroBatch(config, backend.name);
  const rng = new Rng(1);
  const images = new Float32Array(config.batchSize * 784).map(() => rng.uniform());
  const labels = new Uint8Array(config.batchSize).map(() => rng.int(10));

  const workers = await GradientWorkers.forTraining(config, microBatch, backend.name, model.namedParameters(), requestedWorkers);
  const workerCount = workers?.size ?? 0;
  const step = async () => {
    const draw = drawBatch(config, images, labels, rng);
    return workers ? trainStepParallel(model, optimizer, workers, draw, microBatch) : trainStep(model, optimizer, config, schedule, draw, microBatch);
  };
  await step(); // warm-up: kernels compiled, buffers allocated
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) await step();
  const trainImagesPerSec = (steps * config.batchSize) / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const trainImagesPerCpuSec = (steps * config.batchSize) / ((cpu.user + cpu.system) / 1e6);
  await workers?.close();

  // Sampling: eval-mode UNet calls on a chunk of 64 (as ddpmSample does), CFG doubling the batch,
  // in the UNet workers where ddpmSample would start them for a long run.
  const chunk = kind === 'class' ? 128 : 64;
  const sampleWorkers = sampleWorkerCount(backend.name, requestedWorkers);
  const pool = sampleWorkers > 0 ? UNetWorkers.start(model, sampleWorkers, backend.name) : null;
  const x = new Float32Array(chunk * 784).map(() => rng.normal());
  const t = kind === 'denoiser' ? undefined : new Float32Array(chunk).fill(0.5);
  const c = kind === 'class' ? new Float32Array(chunk * 10).map((_, i) => (i % 10 === 3 ? 1 : 0)) : undefined;
  const evalOnce = () => {
    if (pool) {
      pool.forward(x, chunk, t, c);
      return;
    }
    tf.tidy(() => {
      const inputs = {
        x: tf.tensor4d(x, [chunk, 28, 28, 1]),
        t: t && tf.tensor2d(t, [chunk, 1]),
        c: c && tf.tensor2d(c, [chunk, 10]),
      };
      model.forward(inputs).dataSync();
    });
  };
  evalOnce();
  // At least 3 calls and 2 seconds: single calls of a small UNet vary by 20-30% on a shared machine.
  let reps = 0;
  const t1 = performance.now();
  while (reps < 3 || performance.now() - t1 < 2000) {
    evalOnce();
    reps++;
  }
  const sampleImagesPerSec = (reps * chunk) / ((performance.now() - t1) / 1000);
  pool?.close();
  return {
    kind,
    size,
    hidden: config.hidden,
    batchSize: config.batchSize,
    microBatch,
    trainImagesPerSec,
    trainImagesPerCpuSec,
    sampleImagesPerSec,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    backend: backend.name,
    threads: backend.threads,
    workers: workerCount,
    sampleWorkers,
  };
}

function printRow(cells: string[]): void {
  const widths = [9, 6, 4, 6, 6, 12, 10, 13, 12, 30];
  process.stdout.write(cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' ') + '\n');
}
