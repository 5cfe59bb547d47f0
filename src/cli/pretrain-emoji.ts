import * as fs from 'fs';
import * as path from 'path';
import { EMOJI_STYLE_SOURCES, GENERATOR_STYLES, loadEmojiImages } from '../lib/data/emoji';
import { writeFileAtomic } from '../lib/io/atomic';
import { EMOJI_STAGE1_FILE, EMOJI_STAGE2_FILE } from '../lib/pretrained/emoji-model';
import { emojiTrainingSet, emojiVocabulary, STAGE1_SIZE, STAGE2_SIZE, stage1Config, stage2Config } from '../lib/pretrained/emoji-spec';
import { TrainConfig } from '../lib/train/config';
import { encodeNetworkFile } from '../lib/train/network-file';
import { recordShippedChecksum } from '../lib/io/checksums';
import { loadTrainedNetwork, trainNetwork, TrainResult } from '../lib/train/trainer';
import { TrainableNet } from '../lib/train/networks';
import { writeLossSummary } from './pretrain';

export interface EmojiPretrainOptions {
  /** 1, 2 or both (default). */
  stages: Array<1 | 2>;
  overrides: Partial<TrainConfig>;
  /** Run folders (default outputs/runs/<kind>-<config hash>). */
  runDirs: { 1?: string; 2?: string };
  /** Folder to export the weights to (the repository's weights folder), or none. */
  exportTo?: string;
  /** Export the runs' last finished epochs without training further. */
  exportOnly?: boolean;
  stopAfterEpochs?: number;
  command: string;
}

/**
 * Trains Part A's built-in colour model, stage I (text -> 32 px) and then stage II (32 -> 64 px),
 * each resumable like any run, and with `exportTo` writes both stages' weights, loss logs and a
 * record of how they were made (emoji.json).
 */
export async function runEmojiPretrain(opts: EmojiPretrainOptions): Promise<void> {
  const images = await loadEmojiImages({
    styles: GENERATOR_STYLES,
    onProgress: (done, total) => process.stderr.write(`\r[data] rendering emoji ${done}/${total}${done === total ? '\n' : ''}`),
  });
  const vocabulary = emojiVocabulary(images);
  process.stderr.write(
    `[data] ${images.count} images of ${images.entries.length} emoji (${GENERATOR_STYLES.join(', ')}); vocabulary ${vocabulary.list.length} words\n`,
  );
  const results: Partial<Record<1 | 2, TrainResult<TrainableNet>>> = {};
  for (const stage of opts.stages) {
    const config = stage === 1 ? stage1Config(vocabulary, opts.overrides) : stage2Config(opts.overrides);
    const data = emojiTrainingSet(images, stage === 1 ? STAGE1_SIZE : STAGE2_SIZE);
    const runDir = opts.runDirs[stage];
    results[stage] =
      opts.exportOnly && runDir
        ? { ...loadTrainedNetwork(runDir), runDir, resumedFromEpoch: 0, reused: true }
        : await trainNetwork({ config, data, runDir, stopAfterEpochs: opts.stopAfterEpochs });
    const r = results[stage]!;
    const last = r.meta.epochs[r.meta.epochs.length - 1];
    process.stderr.write(
      `stage ${stage}: ${r.meta.epochsDone}/${config.epochs} epochs, last epoch loss ${last?.meanLoss.toFixed(5)}; run folder ${r.runDir}\n`,
    );
  }
  if (!opts.exportTo) {
    process.stderr.write('add --export to write the weights into the repository\n');
    return;
  }
  if (!results[1] || !results[2]) throw new Error('--export writes both stages: run it without --stage (or train the other stage first).');
  fs.mkdirSync(opts.exportTo, { recursive: true });
  const record: Record<string, unknown> = {
    command: opts.command.replace('--export-only', '--export'),
    data: {
      styles: GENERATOR_STYLES.map((s) => ({ style: s, ...EMOJI_STYLE_SOURCES[s] })),
      versions: images.versions,
      images: images.count,
      emoji: images.entries.length,
      vocabularyWords: vocabulary.list.length,
    },
  };
  for (const stage of [1, 2] as const) {
    const r = results[stage]!;
    const file = stage === 1 ? EMOJI_STAGE1_FILE : EMOJI_STAGE2_FILE;
    writeFileAtomic(path.join(opts.exportTo, file), await encodeNetworkFile(r.model, r.meta.config));
    recordShippedChecksum(path.join(opts.exportTo, file));
    writeLossSummary(r.runDir, path.join(opts.exportTo, file.replace('.safetensors', '-loss.jsonl')));
    const { vocabulary: _words, ...cascade } = r.meta.config.cascade!;
    record[`stage${stage}`] = {
      file,
      seed: r.meta.config.seed,
      config: { ...r.meta.config, cascade },
      epochsExported: r.meta.epochsDone,
      parameterCount: r.meta.parameterCount,
      epochs: r.meta.epochs,
      trainingMinutes: Math.round(r.meta.trainingSeconds / 6) / 10,
      backend: r.meta.backend,
      workers: r.meta.workers,
      versions: r.meta.versions,
    };
  }
  writeFileAtomic(path.join(opts.exportTo, 'emoji.json'), JSON.stringify(record, null, 2) + '\n');
  process.stderr.write(`exported the built-in colour model to ${opts.exportTo}\n`);
}
