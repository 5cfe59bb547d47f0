import * as fs from 'fs';
import * as path from 'path';
import { backendInfo } from '../lib/backend/select';
import { loadCheckpoint, saveCheckpointSync } from '../lib/checkpoint';
import { writeFileAtomic } from '../lib/io/atomic';
import { recordShippedChecksum } from '../lib/io/checksums';
import { readSafetensorsFile, readSafetensorsHeader, writeSafetensorsFile } from '../lib/io/safetensors';
import { detectLayout } from '../lib/io/torch-layout';
import type { CascadeUNet } from '../lib/nn/cascade-unet';
import type { TextToImageNet } from '../lib/nn/text-to-image';
import { UNet } from '../lib/nn/unet';
import { GENERATOR_STYLES, loadEmojiImages } from '../lib/data/emoji';
import { EMOJI_STAGE1_FILE, EMOJI_STAGE2_FILE, weightsDir } from '../lib/pretrained/emoji-model';
import { emojiTrainingSet, emojiVocabulary, STAGE1_SIZE, stage1Config } from '../lib/pretrained/emoji-spec';
import { configHash, TrainConfig } from '../lib/train/config';
import { encodeNetworkFile, readNetworkFile } from '../lib/train/network-file';
import { exportTorchCascade, importTorchCascade, stage1DataFile } from '../lib/train/torch-cascade';
import { exportTorchUNet, importTorchUNet, unetFromCheckpoint } from '../lib/train/torch-unet';
import { loadTrainedModel, readRunMetadata, RunMetadata, runFiles } from '../lib/train/trainer';
import { versions } from '../lib/versions';
import { writeLossSummary } from './pretrain';

/**
 * diffusion export --torch / import --torch: Part B UNets to and from PyTorch state dicts
 * (safetensors in PyTorch layout; the PyTorch modules are in scripts/torch_unets.py), and
 * --torch-cascade: Part A's cascade stages (scripts/torch_cascade.py).
 */

/** A run folder (has run.json) or a checkpoint file: the UNet it holds and its training config. */
function loadSource(source: string, epoch: number | undefined): { model: UNet; config: TrainConfig; extra: Record<string, string> } {
  if (!fs.existsSync(source)) {
    throw new Error(`${source} does not exist: give a training run folder (with run.json) or a .safetensors checkpoint of a Part B UNet.`);
  }
  if (fs.statSync(source).isDirectory()) {
    const loaded = loadTrainedModel(source, epoch);
    return { model: loaded.model, config: loaded.meta.config, extra: { source, epoch: String(loaded.epoch) } };
  }
  if (epoch !== undefined) throw new Error(`--epoch picks the weights of a run folder; ${source} is a file, which holds one set of weights.`);
  const header = readSafetensorsHeader(source);
  if (detectLayout(header.metadata, Object.keys(header.tensors), source) === 'torch') {
    throw new Error(
      `${source} is already a PyTorch-layout file: PyTorch loads it as it is (scripts/torch_unets.py); to use it here, diffusion import --torch ${source} --out DIR.`,
    );
  }
  const { values, metadata } = loadCheckpoint(source);
  // A file of a run folder (model-epoch-NNN, checkpoint): the run's config says T, schedule, ...
  const runMeta = runFiles(path.dirname(source)).meta;
  const known: Record<string, string> = !metadata.config && fs.existsSync(runMeta) ? { config: JSON.stringify(readRunMetadata(runMeta).config) } : {};
  const { model, config } = unetFromCheckpoint(values, { ...metadata, ...known }, source);
  return { model, config, extra: { source, ...(metadata.epoch ? { epoch: metadata.epoch } : {}) } };
}

/** Writes the UNet of a run or checkpoint as a PyTorch-layout safetensors file. */
export function runExportTorch(opts: { source: string; out: string; epoch?: number }): void {
  const { model, config, extra } = loadSource(opts.source, opts.epoch);
  try {
    const { tensors, metadata } = exportTorchUNet(model, config, extra);
    writeSafetensorsFile(opts.out, tensors, metadata);
    process.stderr.write(
      `wrote ${opts.out}: ${config.kind} UNet, D = ${config.hidden}, ${model.parameterCount()} parameters, PyTorch layout ` +
        `(load it with scripts/torch_unets.py's UNet(${config.hidden}, '${config.kind}').load_state_dict)\n`,
    );
  } finally {
    model.dispose();
  }
}

/**
 * Imports a PyTorch state dict of a Part B UNet. `out` ending in .safetensors: one TF.js-layout
 * checkpoint; otherwise a new run folder (run.json + model-epoch-001.safetensors) that sample
 * and evaluate take with --run.
 */
export function runImportTorch(opts: { file: string; out: string }): void {
  if (!fs.existsSync(opts.file) || !fs.statSync(opts.file).isFile()) {
    throw new Error(`${opts.file} is not a file: give a .safetensors PyTorch state dict (e.g. from scripts/torch_unets.py init or diffusion export --torch).`);
  }
  const asFile = opts.out.endsWith('.safetensors');
  if (!asFile && fs.existsSync(opts.out) && (!fs.statSync(opts.out).isDirectory() || fs.readdirSync(opts.out).length > 0)) {
    throw new Error(`--out ${opts.out} already exists and is not an empty folder: give a new folder for the run, or a file name ending in .safetensors.`);
  }
  const { model, config } = importTorchUNet(readSafetensorsFile(opts.file), opts.file);
  try {
    const metadata = { epoch: '1', configHash: configHash(config), importedFrom: opts.file, config: JSON.stringify(config) };
    if (asFile) {
      saveCheckpointSync(opts.out, model.stateEntries(), metadata);
    } else {
      const files = runFiles(opts.out);
      saveCheckpointSync(files.epochWeights(1), model.stateEntries(), metadata);
      // run.json last: a folder without it is no run, so a failed import leaves nothing usable-looking.
      writeFileAtomic(files.meta, JSON.stringify(importedRunMetadata(model, config, opts.file), null, 2) + '\n');
    }
    process.stderr.write(
      `imported ${opts.file}: ${config.kind} UNet, D = ${config.hidden}, ${model.parameterCount()} parameters; wrote ${asFile ? opts.out : `the run folder ${opts.out} (use it with --run)`}\n`,
    );
  } finally {
    model.dispose();
  }
}

function importedRunMetadata(model: UNet, config: TrainConfig, from: string): RunMetadata {
  const now = new Date().toISOString();
  return {
    kind: config.kind,
    config,
    configHash: configHash(config),
    seed: config.seed,
    status: 'complete',
    epochsDone: 1,
    steps: 0,
    parameterCount: model.parameterCount(),
    microBatch: 0,
    backend: backendInfo(),
    versions: versions(),
    data: { kind: 'none', description: `not trained here: weights imported from ${path.resolve(from)}`, trainCount: 0, testCount: 0 },
    epochs: [],
    trainingSeconds: 0,
    startedAt: now,
    updatedAt: now,
    imported: { from: path.resolve(from), layout: 'torch', at: now },
  };
}

/** The shipped colour model's stages by name, or any network file of a cascade stage. */
function cascadeSourceFile(source: string): string {
  const shipped: Record<string, string> = { stage1: EMOJI_STAGE1_FILE, stage2: EMOJI_STAGE2_FILE };
  if (shipped[source]) return path.join(weightsDir(), shipped[source]);
  if (!fs.existsSync(source) || !fs.statSync(source).isFile()) {
    throw new Error(`--torch-cascade ${source}: give stage1 or stage2 (the shipped colour model) or a network file of a cascade stage (.safetensors).`);
  }
  return source;
}

/**
 * Writes a stage of Part A's cascade (the shipped colour model's, or any network file) as a
 * PyTorch state dict for scripts/torch_cascade.py, its spec in the metadata.
 */
export function runExportTorchCascade(opts: { source: string; out: string }): void {
  const file = cascadeSourceFile(opts.source);
  const { net, config } = readNetworkFile(fs.readFileSync(file), file);
  try {
    const { tensors, metadata } = exportTorchCascade(net as TextToImageNet | CascadeUNet, config, { source: file });
    writeSafetensorsFile(opts.out, tensors, metadata);
    process.stderr.write(
      `wrote ${opts.out}: cascade ${config.kind === 'text' ? 'stage I (text encoder + UNet)' : 'stage II'}, ${net.parameterCount()} parameters, ` +
        "PyTorch layout (scripts/torch_cascade.py's load_network reads it)\n",
    );
  } finally {
    net.dispose();
  }
}

/**
 * Reads a PyTorch state dict of a cascade stage (scripts/torch_cascade.py's names, the stage's
 * training config in the metadata) into a network file, the format of the shipped weights:
 * `out`, or with `shipTo` (a weights folder) that folder's file of the stage, which then ships.
 */
export async function runImportTorchCascade(opts: { file: string; out?: string; shipTo?: string }): Promise<void> {
  if (!fs.existsSync(opts.file) || !fs.statSync(opts.file).isFile()) {
    throw new Error(`${opts.file} is not a file: give a PyTorch-layout .safetensors file of a cascade stage (scripts/torch_cascade.py).`);
  }
  const torchFile = readSafetensorsFile(opts.file);
  const { net, config } = importTorchCascade(torchFile, opts.file);
  try {
    const stage = config.kind === 'text' ? 1 : 2;
    const out = opts.shipTo ? path.join(opts.shipTo, stage === 1 ? EMOJI_STAGE1_FILE : EMOJI_STAGE2_FILE) : opts.out;
    if (!out) throw new Error('runImportTorchCascade: give out (a file) or shipTo (a weights folder).');
    const metadata: Record<string, string> = { importedFrom: path.resolve(opts.file), importedAt: new Date().toISOString() };
    if (torchFile.metadata.trainedWith) metadata.trainedWith = torchFile.metadata.trainedWith;
    const bytes = await encodeNetworkFile(net, config, { metadata });
    writeFileAtomic(out, bytes);
    if (opts.shipTo) recordShippedStage(opts.shipTo, stage, out, opts.file, net.parameterCount(), config, torchFile.metadata.trainedWith);
    process.stderr.write(
      `imported ${opts.file}: cascade stage ${stage === 1 ? 'I' : 'II'}, ${net.parameterCount()} parameters; wrote ${opts.shipTo ? 'the shipped weights ' : 'the network file '}${out}\n`,
    );
  } finally {
    net.dispose();
  }
}

/**
 * A shipped stage's paperwork: its SHA256SUMS line, its loss summary (from the loss.jsonl beside
 * the PyTorch file, when there is one) and its record in emoji.json, which says how it was trained.
 */
function recordShippedStage(
  dir: string,
  stage: 1 | 2,
  file: string,
  torchFile: string,
  parameterCount: number,
  config: TrainConfig,
  trainedWith?: string,
): void {
  recordShippedChecksum(file);
  const runDir = path.dirname(torchFile);
  if (fs.existsSync(runFiles(runDir).lossLog)) writeLossSummary(runDir, file.replace('.safetensors', '-loss.jsonl'));
  const recordFile = path.join(dir, 'emoji.json');
  const record = fs.existsSync(recordFile) ? (JSON.parse(fs.readFileSync(recordFile, 'utf8')) as Record<string, unknown>) : {};
  const { vocabulary: _words, ...cascade } = config.cascade!;
  record[`stage${stage}`] = {
    file: path.basename(file),
    seed: config.seed,
    config: { ...config, cascade },
    parameterCount,
    trainedIn: 'PyTorch (scripts/train_emoji_torch.py), brought here with diffusion import --torch-cascade --ship',
    trainedWith: trainedWith ? (JSON.parse(trainedWith) as unknown) : null,
    importedAt: new Date().toISOString(),
  };
  writeFileAtomic(recordFile, JSON.stringify(record, null, 2) + '\n');
}

/**
 * Writes stage I's training set (the emoji art at 32 px, what captions are composed from, the
 * stage's config) as one file for scripts/train_emoji_torch.py on a GPU machine.
 */
export async function runExportEmojiData(out: string): Promise<void> {
  const images = await loadEmojiImages({
    styles: GENERATOR_STYLES,
    onProgress: (done, total) => process.stderr.write(`\r[data] rendering emoji ${done}/${total}${done === total ? '\n' : ''}`),
  });
  const config = stage1Config(emojiVocabulary(images));
  const data = emojiTrainingSet(images, STAGE1_SIZE);
  const { tensors, metadata } = stage1DataFile(data.train, config, { description: data.source.description });
  writeSafetensorsFile(out, tensors, metadata);
  const mb = (fs.statSync(out).size / 1e6).toFixed(1);
  process.stderr.write(
    `wrote ${out}: ${data.train.count} images of ${images.entries.length} emoji at ${STAGE1_SIZE} px, ${config.cascade!.vocabulary!.length} words, ${mb} MB ` +
      `(SHA-256 ${metadata.dataSha256.slice(0, 12)}); train on it with scripts/train_emoji_torch.py\n`,
  );
}
