import * as fs from 'fs';
import * as path from 'path';
import { saveCheckpoint } from '../lib/checkpoint';
import { loadFashionMnist } from '../lib/data/fashion';
import { DatasetSplits } from '../lib/data/dataset';
import { writeFileAtomic } from '../lib/io/atomic';
import { recordShippedChecksum } from '../lib/io/checksums';
import { BUILTIN_PROMPTS, builtinTrainConfig, builtinTrainingData } from '../lib/pretrained/builtin-spec';
import { TrainConfig } from '../lib/train/config';
import { loadTrainedModel, readLossLog, train } from '../lib/train/trainer';
import { loadOrTrainJudge, readJudgeInfo, SHIPPED_JUDGE_FILE, SHIPPED_JUDGE_INFO } from '../writeup/judge/classifier';
import { versions } from '../lib/versions';

/** Where the shipped weights and their records live (committed to the repository). */
export const BUILTIN_DIR = path.join('src', 'lib', 'pretrained', 'weights');
/** Where `pretrain judge --export` writes the MNIST judge (the writeup's, not the library's). */
export const JUDGE_DIR = path.join('src', 'writeup', 'judge', 'weights');

/**
 * Trains Part A's built-in model (resumable like any run) and, with `exportTo`, writes the
 * weights, the loss log and a record of how they were made into the repository's weights folder.
 */
export async function runPretrain(opts: {
  digits: DatasetSplits;
  fashionDir?: string;
  overrides: Partial<TrainConfig>;
  runDir?: string;
  exportTo?: string;
  /** Export the run's last finished epoch without training further. */
  exportOnly?: boolean;
  /** Pause the run after this many epochs (the schedule still follows the recipe's epochs). */
  stopAfterEpochs?: number;
  command: string;
}): Promise<void> {
  const fashion = await loadFashionMnist({ dir: opts.fashionDir });
  const data = builtinTrainingData(opts.digits, fashion);
  const config = builtinTrainConfig(opts.overrides);
  process.stderr.write(`built-in model: ${data.train.count} training images (${data.source.description})\n`);
  const result =
    opts.exportOnly && opts.runDir
      ? { ...loadTrainedModel(opts.runDir), runDir: opts.runDir }
      : await train({ config, data, runDir: opts.runDir, stopAfterEpochs: opts.stopAfterEpochs });
  if (!opts.exportTo) {
    process.stderr.write(`run folder ${result.runDir}; add --export to write the weights into ${BUILTIN_DIR}\n`);
    return;
  }
  fs.mkdirSync(opts.exportTo, { recursive: true });
  await saveCheckpoint(path.join(opts.exportTo, 'builtin.safetensors'), result.model.stateEntries(), {
    format: 'diffusion-ts unet',
    config: JSON.stringify(result.meta.config),
    prompts: JSON.stringify(BUILTIN_PROMPTS),
  });
  recordShippedChecksum(path.join(opts.exportTo, 'builtin.safetensors'));
  writeLossSummary(result.runDir, path.join(opts.exportTo, 'builtin-loss.jsonl'));
  const meta = result.meta;
  writeFileAtomic(
    path.join(opts.exportTo, 'builtin.json'),
    JSON.stringify(
      {
        // How to regenerate these weights (an --export-only export was trained by the same command).
        command: opts.command.replace('--export-only', '--export'),
        seed: config.seed,
        config: meta.config,
        epochsExported: meta.epochsDone,
        prompts: BUILTIN_PROMPTS,
        parameterCount: meta.parameterCount,
        epochs: meta.epochs,
        trainingMinutes: Math.round(meta.trainingSeconds / 6) / 10,
        backend: meta.backend,
        versions: meta.versions,
        data: meta.data,
      },
      null,
      2,
    ) + '\n',
  );
  process.stderr.write(`exported the built-in model to ${opts.exportTo}\n`);
}

/** A run's loss log averaged over every 20 steps: small enough to ship beside exported weights. */
export function writeLossSummary(runDir: string, file: string): void {
  const log = readLossLog(runDir);
  const lines: string[] = [];
  for (let i = 0; i < log.length; i += 20) {
    const chunk = log.slice(i, i + 20);
    const mean = chunk.reduce((s, r) => s + r.loss, 0) / chunk.length;
    const last = chunk[chunk.length - 1];
    lines.push(JSON.stringify({ step: last.step, epoch: last.epoch, loss: Number(mean.toPrecision(5)), lr: last.lr, seconds: last.seconds }));
  }
  writeFileAtomic(file, lines.join('\n') + '\n');
}

/**
 * Trains the MNIST judge afresh (resumable, in outputs/judge/) and, with `exportTo`, ships it:
 * mnist-judge.safetensors and mnist-judge.json (its identity key, test accuracy, config, data,
 * training minutes) in the weights folder, where loadOrTrainJudge finds it.
 */
export async function runPretrainJudge(opts: { data: DatasetSplits; exportTo?: string; command: string }): Promise<void> {
  const judge = await loadOrTrainJudge({ data: opts.data, shipped: false });
  process.stderr.write(`judge: test accuracy ${(judge.testAccuracy * 100).toFixed(2)}% on ${opts.data.test.count} held-out digits (${judge.file})\n`);
  if (!opts.exportTo) {
    process.stderr.write(`add --export to write it into ${JUDGE_DIR}\n`);
    return;
  }
  const info = readJudgeInfo(path.join(path.dirname(judge.file), 'judge.json'));
  if (!info) throw new Error(`${path.dirname(judge.file)} has no judge.json: delete the folder and run the command again.`);
  fs.mkdirSync(opts.exportTo, { recursive: true });
  await saveCheckpoint(path.join(opts.exportTo, SHIPPED_JUDGE_FILE), judge.model.stateEntries(), { kind: 'digit-classifier', key: info.key });
  recordShippedChecksum(path.join(opts.exportTo, SHIPPED_JUDGE_FILE));
  writeFileAtomic(
    path.join(opts.exportTo, SHIPPED_JUDGE_INFO),
    JSON.stringify(
      {
        command: opts.command,
        ...info,
        versions: versions(),
      },
      null,
      2,
    ) + '\n',
  );
  process.stderr.write(`exported the judge to ${opts.exportTo}\n`);
  judge.model.dispose();
}
