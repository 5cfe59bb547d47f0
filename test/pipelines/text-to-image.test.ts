import assert from 'node:assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { sampleCfg } from '../../src/lib/pipelines/cfg';
import { textToImage } from '../../src/lib/pipelines/text-to-image';
import { upsample } from '../../src/lib/pipelines/upsample';
import { SuperResolutionModel } from '../../src/lib/pretrained/model';
import { Rng } from '../../src/lib/random';
import { cosineSchedule } from '../../src/lib/noise-schedules';
import { useDefaultBackend } from '../helpers';
import { FakeModel, fakePrompts } from './fake-model';

/** Stage II stand-in: 4 -> 8 px, eps = 0.5 x_t + 0.1 lowRes. */
const fakeUpsampler: SuperResolutionModel = {
  name: 'fake upsampler',
  imageSize: 8,
  lowResSize: 4,
  channels: 1,
  maxAugLevel: 300,
  clipSample: false,
  schedule: cosineSchedule(1000),
  predict: (xt, _t, lowRes) => tf.tidy(() => tf.add(tf.mul(xt, 0.5), tf.mul(lowRes, 0.1))),
};

describe('pipelines/textToImage (a prompt through a cascade)', () => {
  before(useDefaultBackend);
  const stage1 = new FakeModel({ size: 4, rowWeight: 0.2, tWeight: 0.1 });
  const prompts = fakePrompts();
  const timesteps = [990, 600, 300, 0];

  it('is stage I with CFG on the prompt and "" from the seed, then stage II from the same generator', () => {
    const got = textToImage({ stage1, prompts, stage2: fakeUpsampler }, 'a handwritten 2', { seed: 3, count: 2, guidance: 5, timesteps });
    const expected = tf.tidy(() => {
      const rng = new Rng(3);
      const small = sampleCfg(stage1, { count: 2, prompt: prompts.embed('a handwritten 2'), unconditional: prompts.embed(''), guidance: 5, rng, timesteps });
      return upsample(fakeUpsampler, { image: small, rng });
    });
    assert.deepEqual(got.shape, [2, 8, 8, 1]);
    assert.deepEqual(got.dataSync(), expected.dataSync());
    tf.dispose([got, expected]);
  });

  it('upsample: false (or no stage II) returns stage I; bad counts and unknown prompts are refused', () => {
    const small = textToImage({ stage1, prompts, stage2: fakeUpsampler }, 'a handwritten 5', { timesteps, upsample: false });
    assert.deepEqual(small.shape, [1, 4, 4, 1]);
    const alone = textToImage({ stage1, prompts }, 'a handwritten 5', { timesteps });
    assert.deepEqual(alone.dataSync(), small.dataSync());
    tf.dispose([small, alone]);
    assert.throws(() => textToImage({ stage1, prompts }, 'a handwritten 5', { count: 0 }), /count must be a positive integer, got 0/);
    assert.throws(() => textToImage({ stage1, prompts }, 'a handwritten 9', { timesteps }), /a handwritten 9/);
  });
});
