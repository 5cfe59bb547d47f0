import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/lib/backend/tf';
import { loadPartAModel } from '../../src/writeup/inputs/setup';
import { allPrompts, partAPrompts } from '../../src/writeup/inputs/prompts';
import { sampleCfg } from '../../src/lib/pipelines/cfg';
import { stridedTimesteps } from '../../src/lib/scheduler';
import { upsample } from '../../src/lib/pipelines/upsample';
import { EmojiPrompts, loadEmojiCascade, weightsDir } from '../../src/lib/pretrained/emoji-model';
import { Rng } from '../../src/lib/random';
import { UnknownWordsError } from '../../src/lib/text/tokenizer';
import { useDefaultBackend } from '../helpers';

/** The shipped colour model end to end, at a few steps (the smoke budget). */
describe('pretrained: the built-in colour model (shipped weights)', function () {
  this.timeout(120000);
  before(useDefaultBackend);
  let cascade: ReturnType<typeof loadEmojiCascade>;
  before(() => {
    cascade = loadEmojiCascade();
  });
  after(() => {
    cascade.stage1.dispose();
    cascade.stage2.dispose();
  });

  const bytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer).toString('hex');

  it("is a 32 px RGB text-to-image stage I and a 32 -> 64 px stage II on IF's schedule, as its record says", () => {
    const { stage1, stage2, prompts } = cascade;
    assert.deepEqual([stage1.imageSize, stage1.channels, stage1.schedule.T, stage1.learnedVariance], [32, 3, 1000, false]);
    assert.deepEqual([stage2.lowResSize, stage2.imageSize, stage2.channels], [32, 64, 3]);
    assert.ok(stage1.clipSample && stage2.clipSample);
    const record = JSON.parse(fs.readFileSync(path.join(weightsDir(), 'emoji.json'), 'utf8'));
    assert.equal(record.stage1.parameterCount, stage1.net.parameterCount());
    assert.equal(record.stage2.parameterCount, stage2.net.parameterCount());
    assert.match(record.command, /^diffusion pretrain emoji/);
    assert.equal(prompts.vocabulary.list.length, record.data.vocabularyWords);
    const total = ['emoji-stage1.safetensors', 'emoji-stage2.safetensors'].reduce((s, f) => s + fs.statSync(path.join(weightsDir(), f)).size, 0);
    assert.ok(total < 25e6, `shipped weights ${total} bytes`);
  });

  it("reads the writeup's prompts and refuses unknown words, naming the nearest known ones", () => {
    const { prompts } = cascade;
    for (const p of allPrompts(partAPrompts('builtin'))) assert.ok(prompts.has(p), p);
    const e = prompts.embed('a rocket ship');
    assert.deepEqual(e.shape, [1, prompts.dim]);
    assert.throws(
      () => prompts.embed('a snowy village'),
      (err: Error) => err instanceof UnknownWordsError && /"snowy" \(nearest known: snow/.test(err.message),
    );
    assert.equal(prompts.has('a snowy village'), false);
    e.dispose();
  });

  it('samples with CFG in a few steps: right shape, finite, the same bytes for the same seed, different for another prompt', () => {
    const { stage1, prompts } = cascade;
    const unconditional = prompts.embed('');
    const run = (prompt: string, seed: number) => {
      const p = prompts.embed(prompt);
      const x = sampleCfg(stage1, { count: 2, prompt: p, unconditional, rng: new Rng(seed), timesteps: stridedTimesteps(990, 330) });
      p.dispose();
      return x;
    };
    const a = run('a rocket ship', 0);
    const b = run('a rocket ship', 0);
    const c = run('a photo of a dog', 0);
    assert.deepEqual(a.shape, [2, 32, 32, 3]);
    assert.ok([...a.dataSync()].every((v) => Number.isFinite(v) && Math.abs(v) < 1.5));
    assert.equal(bytes(a), bytes(b));
    assert.notEqual(bytes(a), bytes(c));
    tf.dispose([a, b, c, unconditional]);
  });

  it('stage II enlarges a stage I image to 64 px, deterministically', () => {
    const low = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 3), 2), 1)) as tf.Tensor4D;
    const run = () => upsample(cascade.stage2, { image: low, rng: new Rng(1), timesteps: [900, 450, 0] });
    const a = run();
    const b = run();
    assert.deepEqual(a.shape, [1, 64, 64, 3]);
    assert.equal(bytes(a), bytes(b));
    tf.dispose([low, a, b]);
  });

  it("is the notebooks' default model in quick and full; smoke keeps the digits model", () => {
    const quick = loadPartAModel({ model: 'default', profile: 'quick' });
    assert.equal(quick.kind, 'builtin');
    assert.ok(quick.dictionary instanceof EmojiPrompts && quick.upsampler);
    quick.dispose();
    const smoke = loadPartAModel({ model: 'default', profile: 'smoke' });
    assert.equal(smoke.kind, 'builtin-digits');
    assert.equal(smoke.model.imageSize, 28);
    assert.equal(smoke.upsampler, undefined);
    smoke.dispose();
    assert.throws(() => loadPartAModel({ model: 'sdxl' }), /Unknown model "sdxl": set model to one of default, builtin, builtin-digits, deepfloyd-if/);
  });
});
