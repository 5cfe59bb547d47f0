// Kills at a chosen write (kill-at-write.ts, through io/atomic.ts's hook) instead of timing luck:
// a child process trains a tiny run and is SIGKILLed between an epoch's checkpoint and run.json.
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { removeStaleTempFiles } from '../../src/lib/io/atomic';
import { trainConfigFor } from '../../src/writeup/profiles';
import { TrainConfig } from '../../src/lib/train/config';
import { loadTrainedModel, LossRecord, readLossLog, runFiles, RunMetadata, train } from '../../src/lib/train/trainer';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';

const DIST = path.join(__dirname, '..', '..');
const CHILD = `
const { initBackend } = require(${JSON.stringify(path.join(DIST, 'src/lib/backend/select'))});
const { train } = require(${JSON.stringify(path.join(DIST, 'src/lib/train/trainer'))});
const { syntheticSplits } = require(${JSON.stringify(path.join(DIST, 'test/helpers'))});
const { killAtWrite } = require(${JSON.stringify(path.join(DIST, 'test/reliability/kill-at-write'))});
killAtWrite(process.argv[3].split(':')[0], Number(process.argv[3].split(':')[1]));
(async () => {
  await initBackend({ quiet: true });
  await train({ config: JSON.parse(process.argv[1]), data: syntheticSplits(48), runDir: process.argv[2], progress: 'silent', workers: 0 });
})().catch((e) => { console.error(e); process.exit(1); });
`;

function trainInChild(config: TrainConfig, runDir: string, killAt: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['-e', CHILD, JSON.stringify(config), runDir, killAt], {
    encoding: 'utf8',
    timeout: 120_000,
  });
}

const readMeta = (dir: string) => JSON.parse(fs.readFileSync(runFiles(dir).meta, 'utf8')) as RunMetadata;

function epochMeans(log: LossRecord[]): number[] {
  const out: number[] = [];
  for (const r of log) {
    out[r.epoch - 1] ??= 0;
  }
  return out.map((_, i) => {
    const rs = log.filter((r) => r.epoch === i + 1);
    let s = 0;
    for (const r of rs) s += r.loss;
    return s / rs.length;
  });
}

describe('reliability: a run killed between its checkpoint and run.json', function () {
  this.timeout(240_000);
  before(useDefaultBackend);
  const data = syntheticSplits(48);
  const config = trainConfigFor('denoiser', 'smoke', { hidden: 4, batchSize: 16, epochs: 2, trainLimit: 0 });

  it('after the last epoch: run.json and `sample --run` follow the checkpoint (epoch 2, complete), not the stale record', async () => {
    const dir = tempDir('kill-last-');
    // run.json writes: 1 at the start, 2 after epoch 1, 3 after epoch 2. Die before the 3rd lands.
    const child = trainInChild(config, dir, 'run.json:3');
    assert.equal(child.signal, 'SIGKILL', String(child.stderr));
    assert.equal(readMeta(dir).epochsDone, 1, 'the kill left run.json one epoch behind');
    assert.ok(
      fs.readdirSync(dir).some((f) => f.startsWith('.run.json.') && f.endsWith('.tmp')),
      'the killed write left its temp file',
    );
    // Loading the run for sampling already sees epoch 2.
    const loaded = loadTrainedModel(dir);
    assert.equal(loaded.epoch, 2);
    assert.equal(loaded.meta.status, 'complete');
    loaded.model.dispose();
    // Rerunning: reused, and run.json repaired on disk with epoch 2's record from the loss log.
    const again = await train({ config, data, runDir: dir, progress: 'silent', workers: 0 });
    assert.equal(again.reused, true);
    const meta = readMeta(dir);
    assert.equal(meta.status, 'complete');
    assert.deepEqual(
      meta.epochs.map((e) => e.epoch),
      [1, 2],
    );
    assert.equal(meta.epochs[1].meanLoss, epochMeans(readLossLog(dir))[1]);
    assert.ok(!fs.readdirSync(dir).some((f) => f.endsWith('.tmp')), 'stale temp files are removed on start');
    again.model.dispose();
  });

  it('mid-run: the resumed run ends with the same records and losses as a run never killed', async () => {
    const three = { ...config, epochs: 3 };
    const killed = tempDir('kill-mid-');
    assert.equal(trainInChild(three, killed, 'run.json:2').signal, 'SIGKILL');
    const resumed = await train({ config: three, data, runDir: killed, progress: 'silent', workers: 0 });
    const clean = await train({ config: three, data, runDir: tempDir('kill-none-'), progress: 'silent', workers: 0 });
    assert.equal(resumed.resumedFromEpoch, 1);
    assert.deepEqual(
      readMeta(killed).epochs.map((e) => [e.epoch, e.meanLoss, e.lr]),
      clean.meta.epochs.map((e) => [e.epoch, e.meanLoss, e.lr]),
    );
    assert.deepEqual(
      readLossLog(killed).map((r) => r.loss),
      readLossLog(clean.runDir).map((r) => r.loss),
    );
    resumed.model.dispose();
    clean.model.dispose();
  });

  it('a loss that diverges in the first epoch says there is no checkpoint yet', async () => {
    const wild = { ...config, lr: 1e30 };
    await assert.rejects(
      train({ config: wild, data, runDir: tempDir('nan-'), progress: 'silent', workers: 0 }),
      (err: Error) => /diverged/.test(err.message) && /no checkpoint to go back to/.test(err.message) && !/kept in/.test(err.message),
    );
  });

  it('removeStaleTempFiles keeps the temp files of live processes', () => {
    const dir = tempDir('tmpfiles-');
    fs.writeFileSync(path.join(dir, `.a.json.${process.pid}.1.tmp`), '');
    fs.writeFileSync(path.join(dir, '.b.json.999999999.1.tmp'), '');
    fs.writeFileSync(path.join(dir, 'c.json'), '');
    assert.deepEqual(removeStaleTempFiles(dir), ['.b.json.999999999.1.tmp']);
    assert.deepEqual(fs.readdirSync(dir).sort(), [`.a.json.${process.pid}.1.tmp`, 'c.json'].sort());
  });
});
