import * as fs from 'fs';
import * as path from 'path';
import { saveCheckpointSync } from '../lib/checkpoint';
import { DatasetSplits } from '../lib/data/dataset';
import { writeFileAtomic } from '../lib/io/atomic';
import { sha256 } from '../lib/io/checksums';
import { NamedTensor, readSafetensorsFile } from '../lib/io/safetensors';
import { trainConfigFor } from '../writeup/profiles';
import { TrainConfig } from '../lib/train/config';
import { readJsonLines } from '../lib/train/runlog';
import { importTorchUNet } from '../lib/train/torch-unet';
import { autoMicroBatch, LossRecord, plannedRunDir, RunMetadata, runFiles, runHash } from '../lib/train/trainer';
import { backendInfo } from '../lib/backend/select';
import { versions } from '../lib/versions';

/**
 * The GPU path for Part B's full recipe: `diffusion export --digits` writes the training digits
 * for scripts/train_partb_torch.py, and `diffusion import --torch-run` turns the folder it trains
 * into a run folder of this project (TF.js-layout weights per epoch, the loss log, run.json), by
 * default the very folder `train` and the b2 notebook look in for that config and data, so the
 * report reuses it instead of training.
 */

/** What scripts/train_partb_torch.py writes last into its folder (torch-run.json). */
interface TorchRunRecord {
  recipe: {
    kind: string;
    hidden: number;
    epochs: number;
    batchSize: number;
    lr: number;
    finalLrFactor: number;
    T: number;
    pUncond: number;
    seed: number;
    schedule: string;
  };
  device: string;
  bf16: boolean;
  versions: Record<string, string>;
  data: { count: number; dataSha256?: string; description?: string };
  steps: number;
  trainingSeconds: number;
  epochs: Array<{ epoch: number; meanLoss: number; lr: number; seconds: number }>;
}

/** The training digits as bytes (their values were bytes / 255) and their SHA-256, which ties a PyTorch run to them. */
function digitBytes(data: DatasetSplits): { images: Uint8Array; labels: Uint8Array; sha256: string } {
  const images = Uint8Array.from(data.train.images, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  const labels = Uint8Array.from(data.train.labels);
  return { images, labels, sha256: sha256(Buffer.concat([images, labels])) };
}

/** The train split as 8-bit images and labels, fingerprinted, for scripts/train_partb_torch.py. */
export function digitsFile(data: DatasetSplits): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  const { train } = data;
  if ((train.channels ?? 1) !== 1) throw new Error('export --digits writes gray digits; this data set has colour images.');
  const { images, labels, sha256: dataSha256 } = digitBytes(data);
  return {
    tensors: {
      images: { dtype: 'U8', shape: [train.count, train.height, train.width], data: images },
      labels: { dtype: 'U8', shape: [train.count], data: labels },
    },
    metadata: { description: data.source.description, kind: data.source.kind, count: String(train.count), dataSha256 },
  };
}

function readRecord(dir: string): TorchRunRecord {
  const file = path.join(dir, 'torch-run.json');
  if (!fs.existsSync(file)) {
    throw new Error(`${dir} has no torch-run.json: it is not a finished run of scripts/train_partb_torch.py (the script writes that file last).`);
  }
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as TorchRunRecord;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}): train the run again.`, { cause: err });
  }
}

/** This project's config for the recipe the PyTorch run followed; refuses a recipe it cannot express. */
function configFor(record: TorchRunRecord, file: string): TrainConfig {
  const r = record.recipe;
  if (r.kind !== 'time' && r.kind !== 'class') throw new Error(`${file}: kind "${r.kind}" is not a Part B DDPM (time or class).`);
  const config = trainConfigFor(r.kind, 'full', { hidden: r.hidden, epochs: r.epochs, batchSize: r.batchSize, lr: r.lr, seed: r.seed });
  const differ = (
    [
      ['T', r.T, config.T],
      ['finalLrFactor', r.finalLrFactor, config.finalLrFactor],
      ['schedule', r.schedule, config.schedule],
      ...(r.kind === 'class' ? [['pUncond', r.pUncond, config.pUncond]] : []),
    ] as Array<[string, unknown, unknown]>
  ).filter(([, a, b]) => a !== b);
  if (differ.length > 0 || config.lrDecay !== 'exponential') {
    throw new Error(
      `${file}: the recipe differs from SPEC's (${differ.map(([k, a, b]) => `${k} ${a}, SPEC ${b}`).join('; ')}); this project cannot record it as a run of its own.`,
    );
  }
  return config;
}

/**
 * Imports a finished scripts/train_partb_torch.py folder as a run folder. `out` defaults to the
 * folder train() uses for that config and data. Returns the run folder.
 */
export function importTorchRun(opts: { dir: string; data: DatasetSplits; out?: string }): string {
  const record = readRecord(opts.dir);
  const recordFile = path.join(opts.dir, 'torch-run.json');
  const config = configFor(record, recordFile);
  const fingerprint = digitBytes(opts.data).sha256;
  if (Number(record.data.count) !== opts.data.train.count || (record.data.dataSha256 !== undefined && record.data.dataSha256 !== fingerprint)) {
    throw new Error(
      `${recordFile}: the run trained on ${record.data.count} digits (SHA-256 ${record.data.dataSha256?.slice(0, 12) ?? 'unknown'}), ` +
        `but this data is ${opts.data.train.count} digits (${fingerprint.slice(0, 12)}), ${opts.data.source.description}. ` +
        'Import with the --data-dir it was exported with (diffusion export --digits).',
    );
  }
  const hash = runHash(config, opts.data);
  const out = opts.out ?? plannedRunDir(config, opts.data);
  if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0)) {
    throw new Error(`--out ${out} already exists and is not an empty folder: delete it to replace that run with the PyTorch one, or give another folder.`);
  }
  const log = readJsonLines<LossRecord>(path.join(opts.dir, 'loss.jsonl'));
  if (log.length !== record.steps || log.some((r, i) => r.step !== i + 1 || !Number.isFinite(r.loss))) {
    throw new Error(`${path.join(opts.dir, 'loss.jsonl')} does not hold steps 1..${record.steps} with finite losses: train the run again.`);
  }
  // Everything goes into a temporary folder that becomes `out` at the end: no half-imported run.
  const staging = `${out}.importing-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const files = runFiles(staging);
  fs.mkdirSync(staging, { recursive: true });
  let parameterCount = 0;
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const file = path.join(opts.dir, `model-epoch-${String(epoch).padStart(3, '0')}.safetensors`);
      if (!fs.existsSync(file)) throw new Error(`${file} is missing: the run folder is incomplete; train it again.`);
      const { model, config: found } = importTorchUNet(readSafetensorsFile(file), file);
      try {
        if (found.kind !== config.kind || found.hidden !== config.hidden) {
          throw new Error(`${file} holds a ${found.kind} UNet with D = ${found.hidden}, but torch-run.json says ${config.kind} with D = ${config.hidden}.`);
        }
        parameterCount = model.parameterCount();
        saveCheckpointSync(files.epochWeights(epoch), model.stateEntries(), {
          epoch: String(epoch),
          configHash: hash,
          config: JSON.stringify(config),
          importedFrom: file,
        });
      } finally {
        model.dispose();
      }
    }
    writeFileAtomic(
      files.lossLog,
      log.map((r) => JSON.stringify({ step: r.step, epoch: r.epoch, loss: r.loss, lr: r.lr, seconds: r.seconds })).join('\n') + '\n',
    );
    const now = new Date().toISOString();
    const meta: RunMetadata = {
      kind: config.kind,
      config,
      configHash: hash,
      seed: config.seed,
      status: 'complete',
      epochsDone: config.epochs,
      steps: record.steps,
      parameterCount,
      microBatch: autoMicroBatch(config, backendInfo().name),
      backend: backendInfo(),
      versions: versions(),
      data: { ...opts.data.source, trainCount: opts.data.train.count, testCount: opts.data.test.count },
      epochs: record.epochs,
      trainingSeconds: record.trainingSeconds,
      startedAt: now,
      updatedAt: now,
      imported: {
        from: path.resolve(opts.dir),
        layout: 'torch',
        at: now,
        trainedOn: `PyTorch ${record.versions.torch ?? '?'} on ${record.device}${record.bf16 ? ' (bf16)' : ''}`,
      },
    };
    writeFileAtomic(files.meta, JSON.stringify(meta, null, 2) + '\n');
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(staging, out);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return out;
}
