// A judge training killed half-way resumes from its last epoch (it used to start again from scratch).
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { JUDGE_CHECKPOINT, loadOrTrainJudge } from '../../src/writeup/judge/classifier';
import { trainEmojiClassifier } from '../../src/writeup/judge/emoji-judge';
import { tinyEmojiSet } from './tiny-emoji';
import { readSafetensorsHeader } from '../../src/lib/io/safetensors';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';

const DIST = path.join(__dirname, '..', '..');
const CONFIG = { epochs: 3, batchSize: 16 };
const CHILD = `
const { initBackend } = require(${JSON.stringify(path.join(DIST, 'src/lib/backend/select'))});
const { loadOrTrainJudge } = require(${JSON.stringify(path.join(DIST, 'src/writeup/judge/classifier'))});
const { syntheticSplits } = require(${JSON.stringify(path.join(DIST, 'test/helpers'))});
const { killAtWrite } = require(${JSON.stringify(path.join(DIST, 'test/reliability/kill-at-write'))});
killAtWrite(process.argv[2].split(':')[0], Number(process.argv[2].split(':')[1]));
(async () => {
  await initBackend({ quiet: true });
  await loadOrTrainJudge({ data: syntheticSplits(64), dir: process.argv[1], config: ${JSON.stringify(CONFIG)}, progress: 'silent' });
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('reliability: a killed judge training resumes', function () {
  this.timeout(240_000);
  before(useDefaultBackend);

  it('from its last finished epoch, to the same weights as a training never killed', async () => {
    const dir = tempDir('judge-kill-');
    // Checkpoint writes: after epoch 1, 2, 3. Killed at the second: epoch 1 is on disk.
    const child = spawnSync(process.execPath, ['-e', CHILD, dir, `${JUDGE_CHECKPOINT}:2`], {
      encoding: 'utf8',
    });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.ok(fs.existsSync(path.join(dir, JUDGE_CHECKPOINT)));
    const data = syntheticSplits(64);
    let firstDone: number | null = null;
    const resumed = await loadOrTrainJudge({ data, dir, config: CONFIG, progress: 'silent', onProgress: (e) => (firstDone ??= e.done) });
    const stepsPerEpoch = Math.ceil(data.train.count / CONFIG.batchSize);
    assert.ok(firstDone !== null && firstDone > stepsPerEpoch, `it started at step ${firstDone}, not after epoch 1 (${stepsPerEpoch} steps)`);
    assert.ok(!fs.existsSync(path.join(dir, JUDGE_CHECKPOINT)), 'the training checkpoint is removed once the judge is saved');
    const clean = await loadOrTrainJudge({ data, dir: tempDir('judge-clean-'), config: CONFIG, progress: 'silent' });
    const values = (j: typeof clean) => j.model.stateEntries().map(([, v]) => Array.from(v.dataSync() as Float32Array));
    assert.deepEqual(values(resumed), values(clean));
    assert.equal(resumed.testAccuracy, clean.testAccuracy);
    resumed.model.dispose();
    clean.model.dispose();
  });
});

const EMOJI_CHILD = `
const { initBackend } = require(${JSON.stringify(path.join(DIST, 'src/lib/backend/select'))});
const { trainEmojiClassifier } = require(${JSON.stringify(path.join(DIST, 'src/writeup/judge/emoji-judge'))});
const { tinyEmojiSet } = require(${JSON.stringify(path.join(DIST, 'test/reliability/tiny-emoji'))});
const { killAtWrite } = require(${JSON.stringify(path.join(DIST, 'test/reliability/kill-at-write'))});
killAtWrite(process.argv[2].split(':')[0], Number(process.argv[2].split(':')[1]));
(async () => {
  await initBackend({ quiet: true });
  const { images, labels, classes, config } = tinyEmojiSet();
  trainEmojiClassifier(images, labels, classes, { config, mode: 'silent', checkpointFile: process.argv[1] });
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('reliability: a killed emoji judge training resumes', function () {
  this.timeout(240_000);
  before(useDefaultBackend);

  it('from its last finished epoch, to the same weights as a training never killed', () => {
    const file = path.join(tempDir('emoji-judge-kill-'), 'training.safetensors');
    const child = spawnSync(process.execPath, ['-e', EMOJI_CHILD, file, 'training.safetensors:2'], {
      encoding: 'utf8',
    });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.equal(readSafetensorsHeader(file).metadata.epoch, '1', 'epoch 1 was saved before the kill');
    const { images, labels, classes, config } = tinyEmojiSet();
    let firstDone: number | null = null;
    const resumed = trainEmojiClassifier(images, labels, classes, { config, mode: 'silent', checkpointFile: file, onProgress: (e) => (firstDone ??= e.done) });
    const stepsPerEpoch = Math.floor(labels.length / config.batchSize);
    assert.ok(firstDone !== null && firstDone > stepsPerEpoch, `it started at step ${firstDone}, not after epoch 1 (${stepsPerEpoch} steps)`);
    const clean = trainEmojiClassifier(images, labels, classes, { config, mode: 'silent' });
    const values = (m: typeof clean) => m.stateEntries().map(([, v]) => Array.from(v.dataSync() as Float32Array));
    assert.deepEqual(values(resumed), values(clean));
    resumed.dispose();
    clean.dispose();
  });
});
