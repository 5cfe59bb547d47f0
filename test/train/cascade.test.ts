import assert from 'node:assert/strict';
import * as path from 'path';
import { TextToImageNet } from '../../src/lib/nn/text-to-image';
import { stage1Config, stage1Vocabulary, stage2Config } from '../../src/lib/pretrained/emoji-spec';
import { Rng } from '../../src/lib/random';
import { cosineSchedule } from '../../src/lib/noise-schedules';
import { tf } from '../../src/lib/backend/tf';
import { drawCascadeBatch, enlargeLowRes, GENERIC_CAPTION, vocabularyOf } from '../../src/lib/train/cascade-objectives';
import { addNoise, epsFromVelocity, velocity } from '../../src/lib/scheduler';
import { loadTrainedNetwork, readLossLog, train, trainNetwork } from '../../src/lib/train/trainer';
import { scheduleFor } from '../../src/lib/train/networks';
import { relativeError, syntheticNamedSplits, tempDir, uniformValues, useDefaultBackend } from '../helpers';

/** Stage I and II configs of the built-in recipe, shrunk to seconds on the synthetic blobs. */
function tinyConfigs(data = syntheticNamedSplits(24, 8)) {
  const vocab = stage1Vocabulary(data.train.captions!.subjects, data.train.captions!.styleWords);
  const base1 = stage1Config(vocab).cascade!;
  const s1 = stage1Config(vocab, {
    batchSize: 8,
    microBatch: 4,
    epochs: 2,
    seed: 3,
    cascade: {
      ...base1,
      imageSize: 8,
      unet: { ...base1.unet, widths: [8, 16], headDim: 8, pooledDim: 8, contextDim: 8, timeFeatures: 8 },
      text: { ...base1.text!, dim: 8, pooledDim: 8, layers: 1 },
    },
  });
  const base2 = stage2Config().cascade!;
  const s2 = stage2Config({
    batchSize: 8,
    microBatch: 4,
    epochs: 2,
    seed: 3,
    cascade: { ...base2, imageSize: 8, lowResSize: 4, cropSize: 4, maxAugLevel: 300, unet: { ...base2.unet, widths: [8, 8], timeFeatures: 8 } },
  });
  return { data, s1, s2 };
}

describe('training the colour cascade (stage I text -> image, stage II super-resolution)', function () {
  this.timeout(180000);
  before(useDefaultBackend);

  it('v prediction: v = sqrt(abar) eps - sqrt(1 - abar) x0 gives back eps from x_t exactly', () => {
    const x0 = tf.tensor4d(uniformValues(2 * 4 * 4 * 3, 1), [2, 4, 4, 3]);
    const eps = tf.tensor4d(uniformValues(2 * 4 * 4 * 3, 2), [2, 4, 4, 3]);
    for (const t of [0, 500, 990, 999]) {
      const schedule = cosineSchedule(1000);
      const xt = addNoise(x0, eps, [t, t], schedule);
      const back = epsFromVelocity(velocity(x0, eps, [t, t], schedule), xt, t, schedule);
      assert.ok(relativeError(back.dataSync(), eps.dataSync()) < 1e-5, `t = ${t}`);
      tf.dispose([xt, back]);
    }
    tf.dispose([x0, eps]);
  });

  it("draws stage I batches with captions from the images' names, empty ones for CFG", () => {
    const { data, s1 } = tinyConfigs();
    const vocab = vocabularyOf(s1.cascade!);
    const draw = drawCascadeBatch(s1, scheduleFor(s1)!, data.train, [...Array(24).keys()], new Rng(1));
    assert.equal(draw.tokens!.length, 24 * vocab.maxTokens);
    assert.deepEqual([draw.count, draw.size, draw.images.length, draw.noise.length], [24, 8, 24 * 8 * 8 * 3, 24 * 8 * 8 * 3]);
    const captions = Array.from({ length: 24 }, (_, i) =>
      [...draw.tokens!.subarray(i * vocab.maxTokens, (i + 1) * vocab.maxTokens)]
        .filter((id) => id > 1)
        .map((id) => vocab.list[id - 2])
        .join(' '),
    );
    captions.forEach((c, i) => {
      if (c === '' || c === GENERIC_CAPTION) return;
      const name = data.train.classes[draw.labels[i]];
      assert.ok(
        name.split(' ').some((w) => c.split(' ').includes(w)),
        `caption "${c}" of "${name}" names it`,
      );
    });
    assert.ok(draw.timesteps!.every((t) => t >= 0 && t < 1000));
    const again = drawCascadeBatch(s1, scheduleFor(s1)!, data.train, [...Array(24).keys()], new Rng(1));
    assert.deepEqual(again.tokens, draw.tokens, 'the same seed draws the same captions');
  });

  it('draws stage II crops with the same crop of the reduced, enlarged and noised image', () => {
    const { data, s2 } = tinyConfigs();
    const noAug = { ...s2, cascade: { ...s2.cascade!, maxAugLevel: 0 } };
    const draw = drawCascadeBatch(noAug, scheduleFor(noAug)!, data.train, [0, 1, 2], new Rng(2));
    assert.deepEqual([draw.size, draw.lowRes!.length, [...draw.augLevels!]], [4, 3 * 4 * 4 * 3, [0, 0, 0]]);
    // With augmentation level 0 (abar = 0.99996) the low-res input is 2 x enlarged - 1 up to tiny noise:
    // find each crop's offset from the target crop and check the low-res crop there.
    for (let i = 0; i < 3; i++) {
      const full = data.train.images.subarray(i * 192, (i + 1) * 192);
      const up = enlargeLowRes(full, 8, 4);
      const crop = draw.images.subarray(i * 48, (i + 1) * 48);
      let found = false;
      for (let y0 = 0; y0 <= 4 && !found; y0++) {
        for (let x0 = 0; x0 <= 4 && !found; x0++) {
          let same = true;
          for (let y = 0; y < 4 && same; y++) for (let x = 0; x < 12; x++) if (full[((y0 + y) * 8 + x0) * 3 + x] !== crop[y * 12 + x]) same = false;
          if (!same) continue;
          found = true;
          for (let y = 0; y < 4; y++) {
            for (let x = 0; x < 12; x++) {
              const want = 2 * up[((y0 + y) * 8 + x0) * 3 + x] - 1;
              assert.ok(Math.abs(draw.lowRes![i * 48 + y * 12 + x] - want) < 0.05);
            }
          }
        }
      }
      assert.ok(found, `image ${i}: the target is a crop of the image`);
    }
    const aug = drawCascadeBatch(s2, scheduleFor(s2)!, data.train, [0, 1, 2, 3, 4, 5, 6, 7], new Rng(3));
    assert.ok(aug.augLevels!.every((s) => s >= 0 && s <= 300) && new Set(aug.augLevels).size > 1, 'augmentation levels vary within 0..300');
  });

  it('trains both stages with the Part B trainer: finite losses, resumed runs continue exactly, workers change nothing', async () => {
    const { data, s1, s2 } = tinyConfigs();
    const dir = tempDir('cascade');
    const straight = await trainNetwork({ config: s1, data, runDir: path.join(dir, 's1'), progress: 'silent', workers: 0 });
    assert.ok(straight.model instanceof TextToImageNet);
    const losses = readLossLog(path.join(dir, 's1')).map((r) => r.loss);
    assert.equal(losses.length, 6);
    assert.ok(losses.every(Number.isFinite));
    // Two epochs in two sessions, with two workers: the same numbers.
    const resumed = path.join(dir, 's1-resumed');
    await trainNetwork({ config: s1, data, runDir: resumed, progress: 'silent', workers: 2, stopAfterEpochs: 1 });
    await trainNetwork({ config: s1, data, runDir: resumed, progress: 'silent', workers: 2 });
    assert.deepEqual(
      readLossLog(resumed).map((r) => r.loss),
      losses,
    );
    const loaded = loadTrainedNetwork(resumed);
    const a = straight.model.stateEntries().map(([, v]) => Array.from(v.dataSync()));
    const b = loaded.model.stateEntries().map(([, v]) => Array.from(v.dataSync()));
    assert.deepEqual(b, a);
    // Stage II on 64 -> 8 px crops of the same images.
    const up = await trainNetwork({ config: s2, data, runDir: path.join(dir, 's2'), progress: 'silent', workers: 0 });
    assert.equal(up.meta.kind, 'upsample');
    assert.ok(readLossLog(path.join(dir, 's2')).every((r) => Number.isFinite(r.loss)));
    assert.equal(cosineSchedule(up.meta.config.T).T, 1000);
    await assert.rejects(train({ config: s1, data, runDir: path.join(dir, 'x'), progress: 'silent' }), /train\(\) trains Part B's UNets/);
    for (const m of [straight.model, loaded.model, up.model]) m.dispose();
  });
});
