import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/lib/backend/tf';
import { loadCheckpoint } from '../../src/lib/checkpoint';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/lib/io/safetensors';
import { Rng } from '../../src/lib/random';
import { ddpmSchedule } from '../../src/lib/noise-schedules';
import { trainConfigFor } from '../../src/writeup/profiles';
import { Adam } from '../../src/lib/train/adam';
import { configHash, ModelKind, TrainConfig, learningRateAt, learningRateAtStep } from '../../src/lib/train/config';
import { ParameterEma } from '../../src/lib/train/ema';
import { batchLoss, drawBatch, minSnrWeights } from '../../src/lib/train/objectives';
import { addNoise } from '../../src/lib/scheduler';
import { loadTrainedModel, readLossLog, runFiles, train, TrainingStopped, trainStep } from '../../src/lib/train/trainer';
import { createModel } from '../../src/lib/train/networks';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';
import { runtimeOptions } from '../../src/lib/runtime-options';

const tiny = (kind: ModelKind, over: Partial<TrainConfig> = {}): TrainConfig =>
  trainConfigFor(kind, 'smoke', { hidden: 4, batchSize: 16, epochs: 2, trainLimit: 0, T: 20, ...over });

function weights(model: ReturnType<typeof createModel>): Float32Array[] {
  return model.stateEntries().map(([, v]) => v.dataSync() as Float32Array);
}

describe('training (SPEC B1, B2)', function () {
  this.timeout(120000);
  before(useDefaultBackend);
  const data = syntheticSplits(48);

  it('forward process: x_t has mean sqrt(abar) x0 and variance 1 - abar', () => {
    const n = 4096;
    const schedule = ddpmSchedule(300);
    const t = 120;
    const abar = schedule.alphasCumprod[t];
    const rng = new Rng(5);
    tf.tidy(() => {
      const x0 = tf.fill([n, 28, 28, 1], 0.8) as tf.Tensor4D;
      const eps = tf.tensor4d(rng.normalArray(n * 784), [n, 28, 28, 1]);
      const xt = addNoise(x0, eps, new Int32Array(n).fill(t), schedule);
      const { mean, variance } = tf.moments(xt);
      assert.ok(Math.abs(mean.dataSync()[0] - Math.sqrt(abar) * 0.8) < 3e-3);
      assert.ok(Math.abs(variance.dataSync()[0] - (1 - abar)) < 3e-3);
    });
  });

  it('learning rate decays by 0.1^(1/epochs) per epoch (B2) and is constant for B1', () => {
    const c = trainConfigFor('time', 'full');
    assert.equal(learningRateAt(c, 0), 1e-3);
    assert.ok(Math.abs(learningRateAt(c, 20) - 1e-4) < 1e-12);
    assert.ok(Math.abs(learningRateAt(c, 1) / learningRateAt(c, 0) - 0.1 ** (1 / 20)) < 1e-12);
    assert.equal(learningRateAt(trainConfigFor('denoiser', 'full'), 4), 1e-4);
  });

  it('a tiny batch overfits: the loss falls by 10x', () => {
    const config = tiny('denoiser', { hidden: 8, lr: 1e-2, sigma: 0.3 });
    const model = createModel(config);
    const opt = new Adam(model.namedParameters(), { lr: config.lr });
    const images = data.train.images.slice(0, 8 * 784);
    const labels = data.train.labels.slice(0, 8);
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const d = drawBatch(config, images, labels, new Rng(7)); // the same noise every step
      losses.push(trainStep(model, opt, config, null, d, 8));
    }
    const first = losses[0];
    const last = Math.min(...losses.slice(-5));
    assert.ok(last < first / 10, `loss went from ${first} to ${last}`);
    model.dispose();
    opt.dispose();
  });

  it('a batch split into micro-batches trains to nearly the same loss (BatchNorm sees smaller batches)', () => {
    const config = tiny('time', { hidden: 4 });
    const schedule = ddpmSchedule(config.T);
    const run = (micro: number) => {
      const model = createModel(config);
      const opt = new Adam(model.namedParameters(), { lr: 1e-3 });
      const d = drawBatch(config, data.train.images.slice(0, 8 * 784), data.train.labels.slice(0, 8), new Rng(3));
      const loss = trainStep(model, opt, config, schedule, d, micro);
      const w = weights(model);
      model.dispose();
      opt.dispose();
      return { loss, w };
    };
    const whole = run(8);
    const split = run(4);
    // BatchNorm sees 4 images instead of 8, so the losses differ a little but stay close.
    assert.ok(Math.abs(whole.loss - split.loss) < 0.2 * whole.loss);
    assert.ok(Number.isFinite(split.loss));
  });

  it('leaks no tensors across steps', () => {
    const config = tiny('class');
    const schedule = ddpmSchedule(config.T);
    const model = createModel(config);
    const opt = new Adam(model.namedParameters(), { lr: 1e-3 });
    const rng = new Rng(1);
    const step = () => trainStep(model, opt, config, schedule, drawBatch(config, data.train.images.slice(0, 8 * 784), data.train.labels.slice(0, 8), rng), 4);
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
    opt.dispose();
  });

  it('writes a loss log, per-epoch checkpoints and run metadata; a finished run is reused', async () => {
    const dir = tempDir('run');
    const config = tiny('class');
    const r = await train({ config, data, runDir: dir, progress: 'silent' });
    const files = runFiles(dir);
    const log = readLossLog(dir);
    assert.equal(log.length, 2 * Math.ceil(48 / 16));
    assert.deepEqual(Object.keys(log[0]).sort(), ['epoch', 'loss', 'lr', 'seconds', 'step']);
    assert.ok(fs.existsSync(files.epochWeights(1)) && fs.existsSync(files.epochWeights(2)));
    const meta = JSON.parse(fs.readFileSync(files.meta, 'utf8'));
    assert.equal(meta.status, 'complete');
    assert.equal(meta.backend.name, 'wasm');
    assert.deepEqual(meta.runtime, runtimeOptions(), 'run.json records the runtime options');
    assert.equal(meta.seed, 0);
    assert.equal(meta.data.description, 'synthetic test digits');
    assert.ok(meta.versions['@tensorflow/tfjs-core']);
    const ckpt = loadCheckpoint(files.checkpoint);
    assert.ok(
      [...ckpt.values.keys()].some((k) => k.startsWith('adam.m.')),
      'optimiser state is in the checkpoint',
    );
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0);
    const again = await train({ config, data, runDir: dir, progress: 'silent' });
    assert.equal(again.reused, true);
    r.model.dispose();
    again.model.dispose();
  });

  it('a checkpoint round trip gives identical outputs', async () => {
    const dir = tempDir('rt');
    const config = tiny('time', { epochs: 1 });
    const r = await train({ config, data, runDir: dir, progress: 'silent' });
    const loaded = loadTrainedModel(dir);
    tf.tidy(() => {
      const x = tf.tensor4d(new Rng(2).normalArray(2 * 784), [2, 28, 28, 1]);
      const t = tf.fill([2, 1], 0.4) as tf.Tensor2D;
      assert.deepEqual(r.model.forward({ x, t }).dataSync(), loaded.model.forward({ x, t }).dataSync());
    });
    r.model.dispose();
    loaded.model.dispose();
  });

  it('resuming after a kill continues exactly where an uninterrupted run goes', async () => {
    const config = tiny('time', { epochs: 3 });
    const straightDir = tempDir('straight');
    const straight = await train({ config, data, runDir: straightDir, progress: 'silent' });

    const killedDir = tempDir('killed');
    let steps = 0;
    await assert.rejects(train({ config, data, runDir: killedDir, progress: 'silent', shouldStop: () => ++steps > 5 }), TrainingStopped);
    const resumed = await train({ config, data, runDir: killedDir, progress: 'silent' });
    assert.equal(resumed.resumedFromEpoch, 1);
    assert.deepEqual(weights(resumed.model), weights(straight.model));
    assert.deepEqual(
      readLossLog(killedDir).map((r) => [r.step, r.loss]),
      readLossLog(straightDir).map((r) => [r.step, r.loss]),
    );
    straight.model.dispose();
    resumed.model.dispose();
  });

  it('pausing after an epoch and continuing gives the uninterrupted run', async () => {
    const config = tiny('denoiser', { epochs: 2 });
    const straight = await train({ config, data, runDir: tempDir('p-straight'), progress: 'silent' });
    const dir = tempDir('paused');
    const first = await train({ config, data, runDir: dir, progress: 'silent', stopAfterEpochs: 1 });
    assert.equal(first.meta.epochsDone, 1);
    assert.equal(first.meta.status, 'running');
    const rest = await train({ config, data, runDir: dir, progress: 'silent' });
    assert.deepEqual(weights(rest.model), weights(straight.model));
    for (const r of [straight, first, rest]) r.model.dispose();
  });

  it('cosine: linear warm-up to lr, then half a cosine down to lr * finalLrFactor; the per-epoch schedules unchanged', () => {
    const c = tiny('time', { lrDecay: 'cosine', lr: 2e-3, warmupSteps: 10, finalLrFactor: 0.01, epochs: 4 });
    const perEpoch = 30; // 120 steps in all, 110 after the warm-up
    assert.equal(learningRateAtStep(c, 0, perEpoch), 2e-4);
    assert.equal(learningRateAtStep(c, 9, perEpoch), 2e-3);
    assert.equal(learningRateAtStep(c, 10, perEpoch), 2e-3);
    assert.ok(Math.abs(learningRateAtStep(c, 65, perEpoch) - 2e-3 * (0.01 + 0.99 * 0.5)) < 1e-12);
    assert.ok(Math.abs(learningRateAtStep(c, 120, perEpoch) - 2e-5) < 1e-12);
    for (let s = 11; s < 120; s++) assert.ok(learningRateAtStep(c, s, perEpoch) < learningRateAtStep(c, s - 1, perEpoch));
    const e = tiny('time', { epochs: 4 });
    for (const s of [0, 29, 30, 95]) assert.equal(learningRateAtStep(e, s, perEpoch), learningRateAt(e, Math.floor(s / perEpoch)));
    assert.throws(() => learningRateAt(c, 1), /learningRateAtStep/);
  });

  it('EMA: the epoch weights are the average (the live weights stay in the checkpoint) and a resumed run ends the same', async () => {
    const config = tiny('time', { epochs: 2, ema: 0.99 });
    const dir = tempDir('ema');
    const straight = await train({ config, data, runDir: dir, progress: 'silent' });
    const files = runFiles(dir);
    const epochWeights = loadCheckpoint(files.epochWeights(2)).values;
    const ckpt = loadCheckpoint(files.checkpoint).values;
    const name = straight.model.namedParameters()[0][0];
    // The returned model samples with the average, which is what the epoch file holds ...
    assert.deepEqual(straight.model.namedParameters()[0][1].dataSync(), epochWeights.get(name)!.data);
    assert.deepEqual(ckpt.get(`ema.${name}`)!.data, epochWeights.get(name)!.data);
    // ... and differs from the live weights the optimiser goes on from.
    assert.notDeepEqual(ckpt.get(name)!.data, epochWeights.get(name)!.data);
    const reused = await train({ config, data, runDir: dir, progress: 'silent' });
    assert.equal(reused.reused, true);
    assert.deepEqual(weights(reused.model), weights(straight.model));

    const pausedDir = tempDir('ema-paused');
    (await train({ config, data, runDir: pausedDir, progress: 'silent', stopAfterEpochs: 1 })).model.dispose();
    const resumed = await train({ config, data, runDir: pausedDir, progress: 'silent' });
    assert.deepEqual(weights(resumed.model), weights(straight.model));
    // A config without EMA keeps SPEC's recipe and the hash it always had.
    assert.equal(configHash(tiny('time')), configHash({ ...tiny('time'), ema: undefined }));
    for (const r of [straight, reused, resumed]) r.model.dispose();
  });

  it('EMA decay warms up as (1 + n) / (10 + n) and then stays at its value', () => {
    const p = tf.variable(tf.tensor1d([0]));
    const ema = new ParameterEma([['p', p]], 0.9);
    assert.equal(ema.currentDecay(), 0.1);
    p.assign(tf.tensor1d([1]));
    ema.update(); // 0.1 * 0 + 0.9 * 1
    assert.ok(Math.abs(ema.averagedEntries()[0][1].dataSync()[0] - 0.9) < 1e-7);
    for (let i = 0; i < 200; i++) ema.update();
    assert.equal(ema.currentDecay(), 0.9);
    assert.throws(() => new ParameterEma([['p', p]], 1), /in \(0, 1\)/);
    ema.dispose();
    p.dispose();
  });

  it('Min-SNR weights: min(SNR_t, gamma) / SNR_t, 1 where the SNR is below gamma; a large gamma gives the unweighted loss', () => {
    const schedule = ddpmSchedule(300);
    const w = minSnrWeights([1, 20, 150, 300], schedule, 5);
    const snr = (t: number) => schedule.alphasCumprod[t] / (1 - schedule.alphasCumprod[t]);
    assert.ok(Math.abs(w[0] - 5 / snr(1)) < 1e-6 && w[0] < 0.01, `t = 1: ${w[0]}`);
    assert.ok(w[0] < w[1] && w[1] <= w[2], `rising with t: ${Array.from(w).join(', ')}`);
    assert.equal(w[3], 1);
    assert.deepEqual(Array.from(minSnrWeights([0], { ...schedule, alphasCumprod: Float32Array.from([0]) }, 5)), [1], 'abar = 0 (SNR 0) weighs 1, not NaN');
    const config = tiny('time');
    const model = createModel(config);
    const d = drawBatch(config, data.train.images.slice(0, 4 * 784), data.train.labels.slice(0, 4), new Rng(2));
    const loss = (c: TrainConfig) => tf.tidy(() => batchLoss(model, c, ddpmSchedule(config.T), d, { training: false }).dataSync()[0]);
    const plain = loss(config);
    assert.ok(Math.abs(loss({ ...config, minSnrGamma: 1e12 }) - plain) < 1e-6 * plain);
    assert.ok(loss({ ...config, minSnrGamma: 0.01 }) < plain);
    assert.equal(configHash({ ...config, minSnrGamma: undefined }), configHash(config), 'absent, the hash of existing runs is unchanged');
    model.dispose();
  });

  it('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const dir = tempDir('nan');
    const bad = syntheticSplits(48);
    bad.train.images[20 * 784 + 5] = Number.NaN;
    const config = tiny('denoiser', { epochs: 2 });
    await assert.rejects(train({ config, data: bad, runDir: dir, progress: 'silent' }), /diverged.*NaN/s);
    const meta = JSON.parse(fs.readFileSync(runFiles(dir).meta, 'utf8'));
    assert.equal(meta.status, 'diverged');
    assert.equal(fs.existsSync(runFiles(dir).checkpoint), false, 'no checkpoint is written from a diverged step');
  });

  it('a run folder of another configuration is refused; a corrupt checkpoint is a clear error', async () => {
    const dir = tempDir('other');
    const r = await train({ config: tiny('denoiser', { epochs: 1 }), data, runDir: dir, progress: 'silent' });
    r.model.dispose();
    await assert.rejects(train({ config: tiny('denoiser', { epochs: 1, hidden: 8 }), data, runDir: dir, progress: 'silent' }), /another configuration/);
    const file = runFiles(dir).checkpoint;
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 1000));
    await assert.rejects(train({ config: tiny('denoiser', { epochs: 1 }), data, runDir: dir, progress: 'silent' }), /truncated|corrupt/);
    assert.throws(() => loadTrainedModel(path.join(dir, 'nope')), /not a training run/);
  });

  it('a checkpoint whose optimiser state is not finite is refused on resume, naming the file and the fix', async () => {
    const config = tiny('time', { epochs: 2 });
    for (const value of [Infinity, NaN]) {
      const dir = tempDir('bad-adam');
      (await train({ config, data, runDir: dir, progress: 'silent', stopAfterEpochs: 1 })).model.dispose();
      const file = runFiles(dir).checkpoint;
      const { tensors, metadata } = readSafetensorsFile(file);
      const name = Object.keys(tensors).find((n) => n.startsWith('adam.v.'))!;
      (tensors[name].data as Float32Array)[3] = value;
      // Without the data checksum (a file of an older version), so that the state itself is what is checked.
      delete metadata.sha256;
      writeSafetensorsFile(file, tensors, metadata);
      await assert.rejects(
        train({ config, data, runDir: dir, progress: 'silent' }),
        (err: Error) => err.message.includes(file) && err.message.includes(`"${name}" holds ${value}`) && /Delete it to train the run again/.test(err.message),
      );
    }
  });

  it('invalid configs name the bad value', async () => {
    await assert.rejects(train({ config: tiny('class', { batchSize: 0 }), data, progress: 'silent' }), /batchSize must be a positive integer/);
    await assert.rejects(train({ config: tiny('class', { pUncond: 1.5 }), data, progress: 'silent' }), /pUncond/);
    await assert.rejects(train({ config: tiny('time', { ema: 1 }), data, progress: 'silent' }), /ema must be a decay in \(0, 1\)/);
    await assert.rejects(train({ config: tiny('time', { minSnrGamma: -1 }), data, progress: 'silent' }), /minSnrGamma must be a positive number/);
    await assert.rejects(train({ config: tiny('time', { warmupSteps: 5 }), data, progress: 'silent' }), /warmupSteps needs lrDecay 'cosine'/);
    await assert.rejects(
      train({ config: tiny('time', { lrDecay: 'step' as never }), data, progress: 'silent' }),
      /lrDecay must be none, exponential or cosine/,
    );
  });
});
