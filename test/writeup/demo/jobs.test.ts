import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../../src/lib/backend/select';
import { DemoModels, runDemoJob } from '../../../src/writeup/demo/jobs';
import { UNet } from '../../../src/lib/nn/unet';
import { EMOJI_STAGE1_FILE, EMOJI_STAGE2_FILE, emojiStage1FromBytes, emojiStage2FromBytes, weightsDir } from '../../../src/lib/pretrained/emoji-model';
import { readNetworkFile } from '../../../src/lib/train/network-file';

const FIXTURES = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'demo');

describe('demo jobs (what the site runs in the browser, run here in Node)', function () {
  this.timeout(120_000);
  const models: DemoModels = {};

  before(async () => {
    await initBackend({ quiet: true });
    const s1 = path.join(weightsDir(), EMOJI_STAGE1_FILE);
    const s2 = path.join(weightsDir(), EMOJI_STAGE2_FILE);
    models.colour = { ...emojiStage1FromBytes(fs.readFileSync(s1), s1), stage2: emojiStage2FromBytes(fs.readFileSync(s2), s2) };
    models.denoiser = readNetworkFile(fs.readFileSync(path.join(FIXTURES, 'denoiser.f16.safetensors')), 'denoiser', 'denoiser').net as UNet;
  });

  after(() => {
    models.colour?.stage1.dispose();
    models.colour?.stage2?.dispose();
    models.denoiser?.dispose();
  });

  it('text to image: the same seed gives the same bytes, another seed another image; every step is reported', () => {
    const steps: number[] = [];
    const job = { kind: 'text-to-image', prompt: 'a red apple', steps: 12, guidance: 7, seed: 5 } as const;
    const a = runDemoJob(models, job, (p) => {
      if (p.frame === undefined) steps.push(p.done);
    }).images[0].image;
    const b = runDemoJob(models, job).images[0].image;
    const c = runDemoJob(models, { ...job, seed: 6 }).images[0].image;
    assert.deepEqual([a.width, a.height, a.channels], [32, 32, 3]);
    assert.deepEqual(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer));
    assert.notDeepEqual(Buffer.from(a.data.buffer), Buffer.from(c.data.buffer));
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.ok(a.data.every((v) => v >= 0 && v <= 1));
  });

  it('stage II upsamples a stage I image to 64x64; a hybrid gives the image and its blurred view', () => {
    const low = runDemoJob(models, { kind: 'text-to-image', prompt: 'a rocket ship', steps: 12, guidance: 7, seed: 0 }).images[0].image;
    const high = runDemoJob(models, { kind: 'upsample', image: low, seed: 0 }).images[0].image;
    assert.deepEqual([high.width, high.height, high.channels], [64, 64, 3]);
    const hybrid = runDemoJob(models, { kind: 'hybrid', prompts: ['a lithograph of a skull', 'a lithograph of a water wave'], guidance: 7, seed: 0 });
    assert.equal(hybrid.images.length, 2);
    assert.match(hybrid.images[1].label, /from far/);
  });

  it('refuses bad input with messages that name the fix', () => {
    const base = { kind: 'text-to-image', prompt: 'a rocket ship', steps: 12, guidance: 7, seed: 0 } as const;
    assert.throws(() => runDemoJob(models, { ...base, steps: 13 }), /steps must be one of 12, 23, 34, 67, got 13/);
    assert.throws(() => runDemoJob(models, { ...base, guidance: 50 }), /guidance must be from 0 to 20, got 50/);
    assert.throws(() => runDemoJob(models, { ...base, seed: -1 }), /seed must be an integer from 0/);
    assert.throws(() => runDemoJob(models, { ...base, prompt: 'a rocket shipp' }), /"shipp" \(nearest known: .*ship/);
    assert.throws(
      () => runDemoJob(models, { kind: 'sample-digit', digit: 3, guidance: 5, seed: 0, frameEvery: 10 }),
      /needs Part B2's class-conditioned model, which the page has not loaded/,
    );
    assert.throws(() => runDemoJob(models, { kind: 'nonsense' } as never), /seed must be/);
    assert.throws(() => runDemoJob(models, { kind: 'nonsense', seed: 0 } as never), /Unknown demo job "nonsense"/);
  });

  it('B1: denoising a drawn digit returns the drawing, its noisy version and the estimate, all 28x28', () => {
    const data = new Float32Array(28 * 28);
    for (let y = 5; y < 23; y++) data[y * 28 + 14] = 1;
    const out = runDemoJob(models, { kind: 'denoise-digit', image: { width: 28, height: 28, channels: 1, data }, sigma: 0.5, seed: 1 });
    assert.deepEqual(
      out.images.map((i) => i.label),
      ['your digit', 'noisy, sigma = 0.5', 'denoised'],
    );
    assert.deepEqual(out.images[0].image.data, data);
  });
});
