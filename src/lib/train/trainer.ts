import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../backend/tf';
import { BackendInfo, backendInfo } from '../backend/select';
import { RuntimeOptions, runtimeOptions } from '../runtime-options';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint';
import { shuffledBatches } from '../data/batches';
import { DatasetSplits, evenlySpaced, ImageDataset } from '../data/dataset';
import { removeStaleTempFiles, writeFileAtomic } from '../io/atomic';
import { readSafetensorsHeader } from '../io/safetensors';
import { outputsPath } from '../io/outputs';
import { BatchStat } from '../nn/module';
import { updateRunningStats } from '../nn/layers';
import { UNet } from '../nn/unet';
import { deriveSeed, Rng } from '../random';
import { NoiseSchedule } from '../noise-schedules';
import { versions } from '../versions';
import { Adam } from './adam';
import { configHash, isCascadeKind, learningRateAtStep, TrainConfig, validateTrainConfig } from './config';
import { ParameterEma } from './ema';
import { BatchDraw, sliceDraw } from './objectives';
import { createNetwork, drawTrainingBatch, networkLoss, scheduleFor, TrainableNet } from './networks';
import { GradientWorkers } from './gradient-workers';
import { createProgress, ProgressCallback, ProgressMode } from '../progress';
import { appendJsonLine, readJsonLines, truncateJsonLines } from './runlog';

/** One line of a run's loss log (loss.jsonl). */
export interface LossRecord {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Training seconds since the run began, summed over resumed sessions. */
  seconds: number;
}

/** run.json: everything needed to know what produced a run's weights. */
export interface RunMetadata {
  kind: TrainConfig['kind'];
  config: TrainConfig;
  configHash: string;
  seed: number;
  status: 'running' | 'complete' | 'diverged';
  epochsDone: number;
  steps: number;
  parameterCount: number;
  microBatch: number;
  /** Gradient worker threads of the latest session (0 = the main thread computed the gradients). */
  workers?: number;
  backend: BackendInfo;
  /** The runtime options (DIFFUSION_*) of the latest session. */
  runtime?: RuntimeOptions;
  versions: Record<string, string>;
  /** What it was trained on; kind 'none' for weights imported from elsewhere (see `imported`). */
  data: (DatasetSplits['source'] | { kind: 'none'; description: string }) & { trainCount: number; testCount: number };
  epochs: Array<{ epoch: number; meanLoss: number; lr: number; seconds: number }>;
  trainingSeconds: number;
  startedAt: string;
  updatedAt: string;
  /** Filled in by evaluation (class-conditioned runs). */
  evaluation?: unknown;
  /** Weights not trained here but imported (diffusion import --torch / --torch-run): from where, when, trained on what. */
  imported?: { from: string; layout: 'torch'; at: string; trainedOn?: string };
}

export interface TrainOptions {
  config: TrainConfig;
  data: DatasetSplits;
  /** Folder for the run's files; default outputs/runs/<kind>-<configHash>. */
  runDir?: string;
  /** Continue from the run folder's checkpoint when there is one (default true). */
  resume?: boolean;
  progress?: ProgressMode;
  onProgress?: ProgressCallback;
  /** Checked before every step; returning true stops the run like a kill would (tests, UIs). */
  shouldStop?: () => boolean;
  /**
   * Pause after this many epochs (the learning-rate schedule still follows config.epochs, so a
   * later call without it continues the same run).
   */
  stopAfterEpochs?: number;
  /**
   * Worker threads that compute micro-batch gradients side by side (gradient-workers.ts); default
   * DIFFUSION_TRAIN_WORKERS, else one per core on wasm/cpu when a batch has several micro-batches.
   * Changes the speed only, never the numbers. 0 trains in the main thread.
   */
  workers?: number;
}

export interface TrainResult<M extends TrainableNet = UNet> {
  runDir: string;
  model: M;
  meta: RunMetadata;
  /** Epoch the run resumed from (0 = started fresh). */
  resumedFromEpoch: number;
  /** True when the run was already complete and nothing was trained. */
  reused: boolean;
}

/** Files of a run folder. */
export const runFiles = (runDir: string) => ({
  checkpoint: path.join(runDir, 'checkpoint.safetensors'),
  meta: path.join(runDir, 'run.json'),
  lossLog: path.join(runDir, 'loss.jsonl'),
  epochWeights: (epoch: number) => path.join(runDir, `model-epoch-${String(epoch).padStart(3, '0')}.safetensors`),
});

export class TrainingStopped extends Error {}

/**
 * The micro-batch that fits the backend's memory. On wasm the heap is capped at 4 GiB and peak
 * memory grows with batch x D (about 1 GB per 1024); beyond ~4096 a step stalls without an
 * error, so batches are split well below that and gradients accumulated.
 */
export function autoMicroBatch(config: TrainConfig, backend: string): number {
  if (config.microBatch > 0) return Math.min(config.microBatch, config.batchSize);
  if (backend !== 'wasm') return config.batchSize;
  return Math.max(1, Math.min(config.batchSize, Math.floor(3072 / config.hidden)));
}

export function defaultRunDir(config: TrainConfig, hash: string): string {
  return outputsPath('runs', `${config.kind}-${hash}`);
}

/**
 * The hash that keys a run: the config plus what else changes the weights (the data source,
 * the number of training images, the micro-batch chosen for this backend).
 */
export function runHash(config: TrainConfig, data: DatasetSplits): string {
  const trainCount = config.trainLimit > 0 ? Math.min(config.trainLimit, data.train.count) : data.train.count;
  return configHash(config, { data: data.source.kind, trainCount, microBatch: autoMicroBatch(config, backendInfo().name) });
}

/** The folder train() uses for this config and data when no runDir is given. */
export function plannedRunDir(config: TrainConfig, data: DatasetSplits): string {
  return defaultRunDir(config, runHash(config, data));
}

/** Trains one Part B model (see trainNetwork); its result is the UNet. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  if (isCascadeKind(opts.config.kind)) throw new Error(`train() trains Part B's UNets; train a ${opts.config.kind} stage with trainNetwork()`);
  const result = await trainNetwork(opts);
  return { ...result, model: result.model as UNet };
}

/**
 * Trains one network (SPEC B1, B2, B2.4, or a stage of Part A's cascade): Adam, the per-epoch
 * learning-rate schedule, fresh noise for every batch, seeded shuffling. Writes loss.jsonl every
 * step, a checkpoint of model and optimiser after every epoch (plus the epoch's weights alone),
 * and run.json. A run folder with a checkpoint of the same config is resumed; a complete one is
 * reused without training.
 */
export async function trainNetwork(opts: TrainOptions): Promise<TrainResult<TrainableNet>> {
  const config = opts.config;
  validateTrainConfig(config);
  const backend = backendInfo();
  const trainSet = limitDataset(opts.data.train, config.trainLimit);
  checkTrainingData(config, trainSet, opts.data.source.description);
  const microBatch = autoMicroBatch(config, backend.name);
  const hash = runHash(config, opts.data);
  const runDir = opts.runDir ?? defaultRunDir(config, hash);
  const files = runFiles(runDir);
  if (fs.existsSync(runDir) && !fs.statSync(runDir).isDirectory()) {
    throw new Error(`The run folder ${runDir} is a file: give a folder for the run's files (--out DIR), new or of an earlier run.`);
  }
  fs.mkdirSync(runDir, { recursive: true });
  removeStaleTempFiles(runDir);

  const model = createNetwork(config);
  const optimizer = new Adam(model.namedParameters(), { lr: config.lr });
  const ema = config.ema !== undefined ? new ParameterEma(model.namedParameters(), config.ema) : null;
  const schedule = scheduleFor(config);
  let meta: RunMetadata = {
    kind: config.kind,
    config,
    configHash: hash,
    seed: config.seed,
    status: 'running',
    epochsDone: 0,
    steps: 0,
    parameterCount: model.parameterCount(),
    microBatch,
    backend,
    runtime: runtimeOptions(),
    versions: versions(),
    data: { ...opts.data.source, trainCount: trainSet.count, testCount: opts.data.test.count },
    epochs: [],
    trainingSeconds: 0,
    startedAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };

  let startEpoch = 0;
  const imported = importedRun(files, hash, config);
  if (opts.resume !== false && imported) {
    // A complete run trained elsewhere (diffusion import --torch-run): used as it is; it has no
    // optimiser state to resume from, and needs none.
    model.loadState(loadCheckpoint(files.epochWeights(config.epochs)).values, files.epochWeights(config.epochs));
    optimizer.dispose();
    ema?.dispose();
    return { runDir, model, meta: imported, resumedFromEpoch: config.epochs, reused: true };
  }
  if (opts.resume !== false && fs.existsSync(files.checkpoint)) {
    const ckpt = loadCheckpoint(files.checkpoint);
    if (ckpt.metadata.configHash !== hash) {
      throw new Error(
        `${runDir} holds a run with another configuration (hash ${ckpt.metadata.configHash}, this one ${hash}). ` +
          'Use another run folder, or delete that one to start over.',
      );
    }
    model.loadState(ckpt.values, files.checkpoint);
    startEpoch = Number(ckpt.metadata.epoch);
    optimizer.loadState(ckpt.values, Number(ckpt.metadata.step), files.checkpoint);
    ema?.loadState(ckpt.values, optimizer.step, files.checkpoint);
    if (fs.existsSync(files.meta)) meta = { ...readRunMetadata(files.meta), backend, runtime: runtimeOptions() };
    truncateJsonLines<LossRecord>(files.lossLog, (r) => r.step <= optimizer.step);
    // The checkpoint and the loss log are the truth: a kill between the checkpoint and run.json
    // leaves run.json an epoch behind, so its records are rebuilt from them.
    meta = reconcileRunMetadata(meta, startEpoch, optimizer.step, Number(ckpt.metadata.trainingSeconds), readJsonLines<LossRecord>(files.lossLog));
    if (startEpoch >= Math.min(config.epochs, opts.stopAfterEpochs ?? Infinity)) {
      writeMeta(files.meta, meta);
      optimizer.dispose();
      useSamplingWeights(model, ema);
      return { runDir, model, meta, resumedFromEpoch: startEpoch, reused: true };
    }
  } else {
    fs.rmSync(files.lossLog, { force: true });
  }
  const workers = await GradientWorkers.forTraining(config, microBatch, backend.name, model.namedParameters(), opts.workers);
  meta.workers = workers?.size ?? 0;
  try {
    writeMeta(files.meta, meta);
    const batchesPerEpoch = Math.ceil(trainSet.count / config.batchSize);
    const progress = createProgress({
      phase: `train ${config.kind} D=${config.hidden}${workers ? ` (${workers.size} workers)` : ''}`,
      total: batchesPerEpoch * config.epochs,
      unit: 'step',
      mode: opts.progress,
      onProgress: opts.onProgress,
      initial: optimizer.step,
    });

    const lastEpoch = Math.min(config.epochs, opts.stopAfterEpochs ?? Infinity);
    for (let epoch = startEpoch; epoch < lastEpoch; epoch++) {
      const epochStart = performance.now();
      const shuffleRng = new Rng(deriveSeed(config.seed, 'shuffle', epoch));
      const noiseRng = new Rng(deriveSeed(config.seed, 'noise', epoch));
      let lossSum = 0;
      let lossCount = 0;
      for (const indices of shuffledBatches(trainSet.count, config.batchSize, shuffleRng)) {
        if (opts.shouldStop?.()) {
          progress.finish();
          throw new TrainingStopped(`Training stopped at step ${optimizer.step}; resume continues from epoch ${epoch}.`);
        }
        const stepStart = performance.now();
        optimizer.lr = learningRateAtStep(config, optimizer.step, batchesPerEpoch);
        const draw = drawTrainingBatch(config, schedule, trainSet, indices, noiseRng);
        const loss = workers
          ? await trainStepParallel(model, optimizer, workers, draw, microBatch)
          : trainStep(model, optimizer, config, schedule, draw, microBatch);
        if (!Number.isFinite(loss)) {
          meta.status = 'diverged';
          writeMeta(files.meta, meta);
          progress.finish();
          const kept =
            meta.epochsDone > 0
              ? `The last good checkpoint (epoch ${meta.epochsDone}) is kept in ${files.checkpoint}. `
              : 'It diverged in the first epoch, so there is no checkpoint to go back to. ';
          throw new Error(
            `Training diverged: the loss is ${loss} at step ${optimizer.step} (epoch ${epoch + 1}). ${kept}` +
              'Lower the learning rate (--lr) and train again in a new run folder.',
          );
        }
        ema?.update();
        meta.trainingSeconds += (performance.now() - stepStart) / 1000;
        lossSum += loss;
        lossCount += 1;
        appendJsonLine(files.lossLog, {
          step: optimizer.step,
          epoch: epoch + 1,
          loss,
          lr: optimizer.lr,
          seconds: round3(meta.trainingSeconds),
        } satisfies LossRecord);
        progress.tick(1, { epoch: epoch + 1, loss });
      }
      meta.epochsDone = epoch + 1;
      meta.steps = optimizer.step;
      meta.epochs.push({
        epoch: epoch + 1,
        meanLoss: lossSum / lossCount,
        lr: optimizer.lr,
        seconds: round3((performance.now() - epochStart) / 1000),
      });
      await saveCheckpoint(files.epochWeights(epoch + 1), samplingEntries(model, ema), { epoch: String(epoch + 1), configHash: hash });
      await saveCheckpoint(files.checkpoint, [...model.stateEntries(), ...optimizer.stateEntries(), ...(ema?.stateEntries() ?? [])], {
        epoch: String(epoch + 1),
        step: String(optimizer.step),
        configHash: hash,
        trainingSeconds: String(meta.trainingSeconds),
      });
      meta.status = epoch + 1 === config.epochs ? 'complete' : 'running';
      writeMeta(files.meta, meta);
    }
    progress.finish();
  } finally {
    await workers?.close();
  }
  optimizer.dispose();
  useSamplingWeights(model, ema);
  return { runDir, model, meta, resumedFromEpoch: startEpoch, reused: false };
}

/** The weights a run samples with: the EMA of the parameters (when the config keeps one) and the live buffers. */
function samplingEntries(model: TrainableNet, ema: ParameterEma | null): Array<[string, tf.Variable]> {
  return ema ? [...ema.averagedEntries(), ...model.namedBuffers()] : model.stateEntries();
}

/** Puts the EMA weights into the model a run returns (what its epoch files hold) and frees the average. */
function useSamplingWeights(model: TrainableNet, ema: ParameterEma | null): void {
  if (!ema) return;
  const averaged = new Map(ema.averagedEntries());
  for (const [name, p] of model.namedParameters()) p.assign(averaged.get(name)!);
  ema.dispose();
}

/**
 * One optimiser step over a batch, split into micro-batches whose gradients are summed with
 * weights count_i / count. Returns the batch loss. Leaves no tensors behind.
 */
export function trainStep(
  model: TrainableNet,
  optimizer: Adam,
  config: TrainConfig,
  schedule: NoiseSchedule | null,
  draw: BatchDraw,
  microBatch: number,
): number {
  const params = model.namedParameters();
  const vars = params.map(([, v]) => v);
  const sum = new GradientSum(params);
  const stats: BatchStat[] = [];
  for (const { part, weight } of microBatches(draw, microBatch)) {
    const { value, grads } = tf.variableGrads(
      () => tf.mul(networkLoss(model, config, schedule, part, { training: true, batchStats: stats }), weight) as tf.Scalar,
      vars,
    );
    sum.addLoss(value.dataSync()[0]);
    value.dispose();
    sum.add(params.map(([, v]) => grads[v.name]));
  }
  return sum.finish(optimizer, stats);
}

/**
 * trainStep with the micro-batches' gradients computed by worker threads (gradient-workers.ts).
 * Same numbers as trainStep: each micro-batch's gradient is computed the same way and the sums
 * run in the same order.
 */
export async function trainStepParallel(model: TrainableNet, optimizer: Adam, workers: GradientWorkers, draw: BatchDraw, microBatch: number): Promise<number> {
  const params = model.namedParameters();
  const flat = new Float32Array(params.reduce((n, [, v]) => n + v.size, 0));
  let offset = 0;
  for (const [, v] of params) {
    flat.set(v.dataSync() as Float32Array, offset);
    offset += v.size;
  }
  const plan = microBatches(draw, microBatch);
  const results = await workers.gradients(
    flat,
    plan.map((m) => m.part),
    plan.map((m) => m.weight),
  );
  const buffers = new Map(model.namedBuffers());
  const sum = new GradientSum(params);
  const stats: BatchStat[] = [];
  // The flat gradients summed here in micro-batch order: float32 additions, as tf.add would do
  // them in trainStep, without a tensor and a kernel call per parameter and micro-batch.
  const total = results[0].grads;
  for (const r of results.slice(1)) {
    for (let i = 0; i < total.length; i++) total[i] += r.grads[i];
  }
  let at = 0;
  sum.add(
    params.map(([, v]) => {
      const g = tf.tensor(total.subarray(at, at + v.size), v.shape, 'float32');
      at += v.size;
      return g;
    }),
  );
  for (const r of results) {
    sum.addLoss(r.loss);
    for (const s of r.stats) {
      const mean = buffers.get(s.meanBuffer);
      const variance = buffers.get(s.varianceBuffer);
      if (!mean || !variance) throw new Error(`gradient worker: unknown BatchNorm buffers ${s.meanBuffer}, ${s.varianceBuffer}`);
      stats.push({ mean, variance, batchMean: tf.tensor1d(s.mean), batchVariance: tf.tensor1d(s.variance), count: s.count });
    }
  }
  return sum.finish(optimizer, stats);
}

/** A batch's micro-batches, each with its gradient weight (its share of the batch). */
function microBatches(draw: BatchDraw, microBatch: number): Array<{ part: BatchDraw; weight: number }> {
  const out: Array<{ part: BatchDraw; weight: number }> = [];
  for (let start = 0; start < draw.count; start += microBatch) {
    const end = Math.min(draw.count, start + microBatch);
    out.push({ part: sliceDraw(draw, start, end), weight: (end - start) / draw.count });
  }
  return out;
}

/** Sums micro-batch gradients and losses in the order given, then applies one optimiser step. */
class GradientSum {
  private readonly total: Array<tf.Tensor | null>;
  private loss = 0;

  constructor(private readonly params: ReadonlyArray<[string, tf.Variable]>) {
    this.total = params.map(() => null);
  }

  addLoss(value: number): void {
    this.loss += value;
  }

  /** Adds one micro-batch's gradients (in parameter order); takes ownership of them. */
  add(grads: tf.Tensor[]): void {
    grads.forEach((g, i) => {
      const prev = this.total[i];
      if (prev) {
        this.total[i] = tf.add(prev, g);
        prev.dispose();
        g.dispose();
      } else {
        this.total[i] = g;
      }
    });
  }

  /** Applies the step (unless the loss is not finite), folds in the BatchNorm statistics, returns the loss. */
  finish(optimizer: Adam, stats: BatchStat[]): number {
    if (Number.isFinite(this.loss)) {
      optimizer.apply(new Map(this.params.map(([name], i) => [name, this.total[i]!])));
      updateRunningStats(stats);
    } else {
      for (const s of stats) {
        s.batchMean.dispose();
        s.batchVariance.dispose();
      }
    }
    for (const g of this.total) g?.dispose();
    return this.loss;
  }
}

/** Reads a run's loss log. */
export function readLossLog(runDir: string): LossRecord[] {
  return readJsonLines<LossRecord>(runFiles(runDir).lossLog);
}

/** `limit` evenly spaced images (0 = all). */
function limitDataset(ds: ImageDataset, limit: number): ImageDataset {
  return limit <= 0 ? ds : evenlySpaced(ds, limit);
}

/** Refuses data the run cannot learn from, before anything is written. */
function checkTrainingData(config: TrainConfig, train: ImageDataset, source: string): void {
  if (train.count === 0) {
    throw new Error(`The training set is empty (0 images from ${source}): check the data files or folder (--data-dir).`);
  }
  const size = UNet.IMAGE_SIZE;
  if (!isCascadeKind(config.kind) && (train.height !== size || train.width !== size || (train.channels ?? 1) !== 1)) {
    throw new Error(
      `Part B's UNet takes ${size}x${size} gray images, but ${source} has ${train.height}x${train.width}x${train.channels ?? 1}: ` +
        `give MNIST-format data (${size}x${size} IDX files).`,
    );
  }
}

/** Reads run.json; invalid JSON is an error that names the file and the fix. */
export function readRunMetadata(file: string): RunMetadata {
  let meta: RunMetadata;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8')) as RunMetadata;
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}): delete it and train again with the same options in this folder, which rebuilds it from the checkpoint and loss log.`,
      { cause: err },
    );
  }
  // The fields the code reads, checked, so a hand-edited or damaged file is named rather than failing deep inside.
  const fix = 'delete it and train again with the same options in this folder, which rebuilds it from the checkpoint and loss log';
  const problem =
    typeof meta !== 'object' || meta === null
      ? 'it is not a JSON object'
      : !Array.isArray(meta.epochs)
        ? `"epochs" must be a list of epoch records, got ${JSON.stringify(meta.epochs)}`
        : !Number.isInteger(meta.epochsDone) || meta.epochsDone < 0
          ? `"epochsDone" must be a non-negative integer, got ${JSON.stringify(meta.epochsDone)}`
          : typeof meta.config !== 'object' || meta.config === null
            ? `"config" must be the training config, got ${JSON.stringify(meta.config)}`
            : null;
  if (problem) throw new Error(`${file}: ${problem}: ${fix}.`);
  try {
    validateTrainConfig(meta.config);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}: ${fix}.`, { cause: err });
  }
  return meta;
}

/** run.json of a complete imported run of this config in the folder (and no checkpoint), or null. */
function importedRun(files: ReturnType<typeof runFiles>, hash: string, config: TrainConfig): RunMetadata | null {
  if (fs.existsSync(files.checkpoint) || !fs.existsSync(files.meta)) return null;
  const meta = readRunMetadata(files.meta);
  if (!meta.imported || meta.status !== 'complete' || meta.epochsDone !== config.epochs) return null;
  if (meta.configHash !== hash) {
    throw new Error(
      `${path.dirname(files.meta)} holds an imported run of another configuration (hash ${meta.configHash}, this one ${hash}): use another run folder.`,
    );
  }
  return meta;
}

/**
 * run.json as the checkpoint (epoch, step, seconds) and the loss log say it is: the epochs after
 * the checkpoint's are dropped, and any finished epoch run.json lacks gets its record back from
 * the loss log (its mean loss, last learning rate and seconds).
 */
export function reconcileRunMetadata(meta: RunMetadata, epochsDone: number, steps: number, trainingSeconds: number, log: readonly LossRecord[]): RunMetadata {
  const epochs = meta.epochs.filter((e) => e.epoch <= epochsDone);
  for (let epoch = 1; epoch <= epochsDone; epoch++) {
    if (epochs.some((e) => e.epoch === epoch)) continue;
    const records = log.filter((r) => r.epoch === epoch);
    if (records.length === 0) continue;
    const before = log.filter((r) => r.epoch < epoch);
    const start = before.length > 0 ? before[before.length - 1].seconds : 0;
    let sum = 0;
    for (const r of records) sum += r.loss;
    epochs.push({ epoch, meanLoss: sum / records.length, lr: records[records.length - 1].lr, seconds: round3(records[records.length - 1].seconds - start) });
  }
  epochs.sort((a, b) => a.epoch - b.epoch);
  const status = epochsDone >= meta.config.epochs ? 'complete' : 'running';
  return { ...meta, epochs, epochsDone, steps, trainingSeconds, status };
}

function writeMeta(file: string, meta: RunMetadata): void {
  meta.updatedAt = new Date().toISOString();
  writeFileAtomic(file, JSON.stringify(meta, null, 2) + '\n');
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Loads a trained model from a run folder: the weights after `epoch` (default: the last
 * completed epoch) and the run's metadata.
 */
export function loadTrainedModel(runDir: string, epoch?: number): { model: UNet; meta: RunMetadata; epoch: number } {
  const loaded = loadTrainedNetwork(runDir, epoch);
  if (!(loaded.model instanceof UNet)) {
    loaded.model.dispose();
    throw new Error(`${runDir} holds a ${loaded.meta.kind} stage of the cascade, not a Part B UNet: load it with loadTrainedNetwork.`);
  }
  return { ...loaded, model: loaded.model };
}

/** loadTrainedModel for any network the trainer trains. */
export function loadTrainedNetwork(runDir: string, epoch?: number): { model: TrainableNet; meta: RunMetadata; epoch: number } {
  const files = runFiles(runDir);
  if (!fs.existsSync(files.meta)) {
    throw new Error(`${runDir} is not a training run (no run.json). Train one with: diffusion train <denoiser|time|class>.`);
  }
  let meta = readRunMetadata(files.meta);
  // A kill between an epoch's checkpoint and run.json: the checkpoint says how far the run got.
  if (fs.existsSync(files.checkpoint)) {
    const ckpt = readSafetensorsHeader(files.checkpoint).metadata;
    const done = Number(ckpt.epoch);
    if (done > meta.epochsDone && fs.existsSync(files.epochWeights(done))) {
      meta = reconcileRunMetadata(meta, done, Number(ckpt.step), Number(ckpt.trainingSeconds), readJsonLines<LossRecord>(files.lossLog));
    }
  }
  const e = epoch ?? meta.epochsDone;
  if (!Number.isInteger(e) || e < 1 || e > meta.epochsDone) {
    throw new Error(`${runDir} has weights for epochs 1..${meta.epochsDone}; epoch ${epoch} is not among them.`);
  }
  const model = createNetwork(meta.config);
  model.loadState(loadCheckpoint(files.epochWeights(e)).values, files.epochWeights(e));
  return { model, meta, epoch: e };
}
