// The live demos in headless Chromium, driven like a reader would: real mouse events draw and
// paint, the keyboard moves sliders, buttons run the Web Worker. Results are read back from the
// page's canvases and checked in Node: against runDemoJob on the same model files (one library,
// two runtimes) and, for the class-conditioned demo, by the project's MNIST judge.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as http from 'http';
import * as path from 'path';
import type { Page } from 'puppeteer-core';
import { initBackend } from '../../src/lib/backend/select';
import { DemoJob, DemoModels, runDemoJob } from '../../src/writeup/demo/jobs';
import { Pixels } from '../../src/lib/images/pixels';
import { loadCheckpoint } from '../../src/lib/checkpoint';
import { DigitClassifier } from '../../src/writeup/judge/classifier';
import { UNet } from '../../src/lib/nn/unet';
import { emojiStage1FromBytes } from '../../src/lib/pretrained/emoji-model';
import { Rng } from '../../src/lib/random';
import { readNetworkFile } from '../../src/lib/train/network-file';
import { findChromium, launchChromium, type LaunchedBrowser } from '../../src/report/chromium';
import { serveStatic } from '../../src/report/serve';
import { buildDemoSite, DEMO_FIXTURES } from './demo-site';
import { axeViolations } from '../report/site-checks';

/** A canvas's pixels as [0, 1] values (RGB, or the red channel for gray images). */
async function canvasPixels(page: Page, selector: string, channels: 1 | 3): Promise<Pixels> {
  const raw = (await page.evaluate(`(() => {
    const c = document.querySelector(${JSON.stringify(selector)});
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    return { width: c.width, height: c.height, data: Array.from(d.data) };
  })()`)) as { width: number; height: number; data: number[] };
  const n = raw.width * raw.height;
  const data = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = raw.data[4 * i + c] / 255;
  return { width: raw.width, height: raw.height, channels, data };
}

/** Largest difference between two images in 8-bit steps (what the canvas can show). */
function maxStepDifference(a: Pixels, b: Pixels): number {
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels]);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(Math.round(255 * a.data[i]) - Math.round(255 * b.data[i])));
  return worst;
}

function meanAbs(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

async function run(page: Page, panel: string, runs: number, timeout = 120_000): Promise<string> {
  await page.click(`#${panel} button.demo-run`);
  await page.waitForFunction(`document.querySelector('#${panel}').dataset.runs === '${runs}'`, { timeout });
  return page.$eval(`#${panel} .demo-status`, (e) => e.textContent ?? '');
}

async function setInput(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(
    selector,
    (e, v) => {
      (e as unknown as { value: string }).value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
      e.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
}

/** Drags the mouse through points given in [0, 1] coordinates of an element. */
async function drag(page: Page, selector: string, points: Array<[number, number]>): Promise<void> {
  const handle = (await page.$(selector))!;
  await handle.scrollIntoView();
  const box = (await handle.boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

describe('live demos in headless Chromium', function () {
  this.timeout(300_000);
  let chromium: LaunchedBrowser | null = null;
  let server: http.Server | null = null;
  let url = '';
  let siteDir = '';
  let page: Page;
  const errors: string[] = [];
  const models: DemoModels = {};

  before(async function () {
    if (!findChromium()) {
      console.warn('    Skipping the live-demo checks: /usr/bin/chromium is absent (apt-get install -y chromium, or set CHROMIUM_PATH).');
      this.skip();
    }
    await initBackend({ quiet: true });
    siteDir = await buildDemoSite();
    ({ server, url } = await serveStatic(siteDir, 0));
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    await page.setViewport({ width: 1000, height: 1200 });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${(e as Error).message}`));
    await page.goto(`${url}try.html`, { waitUntil: 'load' });
    await page.waitForSelector('html[data-demo-ready]');
    // Node's side: the very files the page fetches.
    const modelFile = (f: string) => fs.readFileSync(path.join(siteDir, 'demo', 'models', f));
    models.colour = emojiStage1FromBytes(modelFile('emoji-stage1.int8.safetensors'), 'emoji-stage1.int8.safetensors');
    models.denoiser = readNetworkFile(modelFile('denoiser.f16.safetensors'), 'denoiser', 'denoiser').net as UNet;
    const cls = readNetworkFile(modelFile('class-conditioned.f16.safetensors'), 'class', 'class');
    models.classConditioned = { model: cls.net as UNet, T: cls.config.T, pixelRange: cls.config.pixelRange };
  });

  after(async () => {
    await chromium?.close();
    server?.close();
    models.colour?.stage1.dispose();
    models.denoiser?.dispose();
    models.classConditioned?.model.dispose();
    if (siteDir) fs.rmSync(path.dirname(siteDir), { recursive: true, force: true });
  });

  it('lists the models the build shipped, with their sizes, and links back to the writeup', async () => {
    const index = JSON.parse(fs.readFileSync(path.join(siteDir, 'demo', 'models', 'models.json'), 'utf8')) as { models: Record<string, { bytes: number }> };
    assert.deepEqual(Object.keys(index.models).sort(), ['class-conditioned', 'colour', 'colour-stage2', 'denoiser']);
    const text = await page.$eval('main', (e) => e.textContent ?? '');
    const mb = (index.models['colour-stage2'].bytes / 1e6).toFixed(1);
    assert.ok(text.includes(`colour-stage2: the built-in colour model's stage II (32 -> 64 px), ${mb} MB`), text);
    const b2 = fs.readFileSync(path.join(siteDir, 'b2-diffusion-models.html'), 'utf8');
    assert.match(b2, /href="try\.html#sample-digit"/);
  });

  it('text to image: the prompt runs in the worker, shows its steps, and gives the same image as Node', async () => {
    await setInput(page, '#text-to-image input[type="text"]', 'a rocket ship');
    await setInput(page, '#text-to-image select', '12');
    const status = await run(page, 'text-to-image', 1);
    assert.match(status, /^Done in/, status);
    const progress = await page.$eval('#text-to-image progress', (e) => [(e as unknown as { value: number }).value, (e as unknown as { max: number }).max]);
    assert.deepEqual(progress, [11, 11]);
    const browser = await canvasPixels(page, '#text-to-image .demo-results canvas', 3);
    const job: DemoJob = { kind: 'text-to-image', prompt: 'a rocket ship', steps: 12, guidance: 7, seed: 0 };
    const node = runDemoJob(models, job).images[0].image;
    const diff = maxStepDifference(browser, node);
    assert.ok(diff <= 2, `browser and Node differ by up to ${diff}/255`);
  });

  it('text to image: an unknown word is refused with the nearest known words', async () => {
    await setInput(page, '#text-to-image input[type="text"]', 'a rocket shipp');
    const status = await run(page, 'text-to-image', 2);
    assert.match(status, /shipp/);
    assert.match(status, /ship/);
    await setInput(page, '#text-to-image input[type="text"]', 'a rocket ship');
  });

  it('cancel stops a long sample and the next run still works', async () => {
    await setInput(page, '#text-to-image select', '67');
    await page.click('#text-to-image button.demo-run');
    await page.waitForFunction(`document.querySelector('#text-to-image .demo-status').textContent.startsWith('Step')`, { timeout: 60_000 });
    await page.click('#text-to-image button.demo-cancel');
    await page.waitForFunction(`document.querySelector('#text-to-image').dataset.runs === '3'`, { timeout: 30_000 });
    assert.equal(await page.$eval('#text-to-image .demo-status', (e) => e.textContent), 'Cancelled.');
    await setInput(page, '#text-to-image select', '12');
    assert.match(await run(page, 'text-to-image', 4), /^Done in/);
  });

  it('stage II: the button upsamples the last stage I image to 64x64', async () => {
    await page.click('#text-to-image button.demo-stage2-run');
    await page.waitForSelector('#text-to-image .demo-stage2 canvas', { timeout: 120_000 });
    const big = await canvasPixels(page, '#text-to-image .demo-stage2 canvas', 3);
    assert.deepEqual([big.width, big.height], [64, 64]);
  });

  it('text to image: a new Generate clears the previous stage II result; the steps menu counts what the progress counts', async () => {
    assert.equal(await page.$$eval('#text-to-image .demo-stage2 canvas', (c) => c.length), 1, 'the stage II result of the test before');
    assert.match(await run(page, 'text-to-image', 5), /^Done in/);
    assert.equal(await page.$$eval('#text-to-image .demo-stage2 canvas', (c) => c.length), 0);
    // 12 timesteps are 11 steps, as the progress showed ("Step 11 of 11").
    const label = await page.$eval('#text-to-image select option[value="12"]', (o) => o.textContent ?? '');
    assert.match(label, /^11 /);
  });

  it('text to image: an overlong prompt is refused with its length, not echoed, and the field has a limit', async () => {
    assert.equal(await page.$eval('#text-to-image input[type="text"]', (e) => e.getAttribute('maxlength')), '200');
    await setInput(page, '#text-to-image input[type="text"]', 'a '.repeat(1000));
    const status = await run(page, 'text-to-image', 6);
    assert.equal(status, 'The prompt has 1999 characters; these models read at most 200 (a few words): shorten it.');
    await setInput(page, '#text-to-image input[type="text"]', 'a rocket ship');
  });

  it('image to image: a drawing made with the mouse is edited, as Node edits the same input', async () => {
    await drag(page, '#image-to-image canvas.demo-pad', [
      [0.2, 0.2],
      [0.8, 0.3],
      [0.5, 0.8],
      [0.2, 0.2],
    ]);
    const input = await canvasPixels(page, '#image-to-image canvas.demo-pad', 3);
    assert.ok(
      input.data.some((v) => v < 0.5),
      'the stroke is on the pad',
    );
    // i_start from 10 to 20 with the keyboard (ten presses of the right arrow).
    await page.focus('#image-to-image input[type="range"]');
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    assert.equal(await page.$eval('#image-to-image input[type="range"]', (e) => (e as unknown as { value: string }).value), '20');
    assert.match(await run(page, 'image-to-image', 1), /^Done in/);
    const [shownInput, edited] = [
      await canvasPixels(page, '#image-to-image .demo-results figure:nth-child(1) canvas', 3),
      await canvasPixels(page, '#image-to-image .demo-results figure:nth-child(2) canvas', 3),
    ];
    const job: DemoJob = { kind: 'edit', image: { ...shownInput, data: shownInput.data }, prompt: 'a high quality photo', iStart: 20, guidance: 7, seed: 0 };
    const node = runDemoJob(models, job).images[1].image;
    const diff = maxStepDifference(edited, node);
    assert.ok(diff <= 2, `browser and Node differ by up to ${diff}/255`);
    assert.ok(meanAbs(edited.data, shownInput.data) > 0.01, 'the edit changed the image');
  });

  it('a file that is not an image is named beside the upload, and the pad is cleared so no run uses the old picture', async () => {
    const notImage = path.join(os.tmpdir(), `not-an-image-${process.pid}.png`);
    fs.writeFileSync(notImage, 'these are not the bytes of a picture\n');
    try {
      const upload = (await page.$('#image-to-image input[type="file"]')) as unknown as { uploadFile(f: string): Promise<void> };
      await upload.uploadFile(notImage);
      await page.waitForFunction(`document.querySelector('#image-to-image .demo-upload-error').textContent !== ''`, { timeout: 10_000 });
      const message = await page.$eval('#image-to-image .demo-upload-error', (e) => e.textContent ?? '');
      assert.equal(message, `${path.basename(notImage)} is not an image this browser can read: choose a PNG or JPEG file.`);
      const pad = await canvasPixels(page, '#image-to-image canvas.demo-pad', 3);
      assert.ok(
        pad.data.every((v) => v > 0.99),
        'the earlier drawing is gone',
      );
    } finally {
      fs.rmSync(notImage, { force: true });
    }
  });

  it('inpainting: the painted region is filled and the rest is kept', async () => {
    await page.waitForFunction(
      `(() => { const c = document.querySelector('#inpainting .demo-stack canvas'); return c.getContext('2d').getImageData(128, 128, 1, 1).data[0] !== 255; })()`,
    );
    assert.match(await run(page, 'inpainting', 1), /Paint the region to fill first/);
    await drag(page, '#inpainting .demo-stack canvas:nth-child(2)', [
      [0.1, 0.1],
      [0.45, 0.1],
      [0.45, 0.45],
      [0.1, 0.45],
      [0.1, 0.1],
      [0.3, 0.3],
    ]);
    assert.match(await run(page, 'inpainting', 2), /^Done in/);
    const before = await canvasPixels(page, '#inpainting .demo-results figure:nth-child(1) canvas', 3);
    const after = await canvasPixels(page, '#inpainting .demo-results figure:nth-child(2) canvas', 3);
    // Pixels far from the painted top-left quarter keep their values (up to the last step's noise).
    const kept: number[] = [];
    const changed: number[] = [];
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const d = Math.abs(before.data[(y * 32 + x) * 3] - after.data[(y * 32 + x) * 3]);
        if (x > 20 || y > 20) kept.push(d);
        else if (x > 4 && x < 12 && y > 4 && y < 12) changed.push(d);
      }
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    assert.ok(mean(kept) < 0.02, `kept region moved by ${mean(kept)}`);
    assert.ok(mean(changed) > mean(kept) * 3, `painted region changed by ${mean(changed)} only`);
  });

  it('without a pointer: SDEdit gets a sketch (and runs) and inpainting a preset mask, from the keyboard', async () => {
    // Focus and press keys only: Enter on the buttons, arrow keys in the select.
    await page.focus('#image-to-image .demo-buttons button:nth-child(2)');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Sketch a house for me');
    await page.keyboard.press('Enter');
    const sketch = await canvasPixels(page, '#image-to-image canvas.demo-pad', 3);
    const inked = sketch.data.filter((v, i) => i % 3 === 2 && v < 0.9 && sketch.data[i - 2] < 0.5).length;
    assert.ok(inked > 500, `the sketch drew ${inked} pixels`);
    await page.focus('#image-to-image button.demo-run');
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.querySelector('#image-to-image').dataset.runs === '2'`, { timeout: 120_000 });
    assert.match(await page.$eval('#image-to-image .demo-status', (e) => e.textContent ?? ''), /^Done in/);

    const labels = await page.$$eval('#inpainting .demo-field label', (es) => es.map((e) => e.textContent));
    assert.ok(labels.includes('Or fill'), labels.join(', '));
    const presets = await page.$$eval('#inpainting select', (ss) =>
      ss.map((s) => [...(s as unknown as { options: Array<{ value: string }> }).options].map((o) => o.value)),
    );
    const index = presets.findIndex((o) => o.includes('the centre'));
    const selects = await page.$$('#inpainting select');
    await selects[index].focus();
    await page.keyboard.press('ArrowDown'); // '' -> 'the centre'
    const maskAlpha = (await page.evaluate(`(() => {
      const c = document.querySelector('#inpainting .demo-stack canvas:nth-child(2)');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let centre = 0, corner = 0;
      for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
        const a = d[(y * c.width + x) * 4 + 3];
        if (x > 0.35 * c.width && x < 0.65 * c.width && y > 0.35 * c.height && y < 0.65 * c.height) centre += a > 0;
        if (x < 0.2 * c.width && y < 0.2 * c.height) corner += a > 0;
      }
      return [centre, corner];
    })()`)) as number[];
    assert.ok(maskAlpha[0] > 5000 && maskAlpha[1] === 0, `centre ${maskAlpha[0]}, corner ${maskAlpha[1]} painted pixels`);
  });

  it('the demo page and a writeup page have no serious or critical accessibility findings (axe-core)', async () => {
    assert.deepEqual(await axeViolations(page), []);
    const b2 = await chromium!.browser.newPage();
    try {
      await b2.goto(`${url}b2-diffusion-models.html`, { waitUntil: 'load' });
      assert.deepEqual(await axeViolations(b2), []);
    } finally {
      await b2.close();
    }
  });

  it('visual anagram: the second image is the first upside down', async () => {
    assert.match(await run(page, 'illusions', 1), /^Done in/);
    const upright = await canvasPixels(page, '#illusions .demo-results figure:nth-child(1) canvas', 3);
    const flipped = await canvasPixels(page, '#illusions .demo-results figure:nth-child(2) canvas', 3);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) assert.equal(flipped.data[(y * 32 + x) * 3 + c], upright.data[((31 - y) * 32 + x) * 3 + c]);
      }
    }
  });

  it('hybrid image: the same panel makes one, with its blurred view', async () => {
    await setInput(page, '#illusions select', 'hybrid');
    await setInput(page, '#illusions input[type="text"]', 'a lithograph of a skull');
    assert.match(await run(page, 'illusions', 2), /^Done in/);
    const labels = await page.$$eval('#illusions .demo-results figcaption', (es) => es.map((e) => e.textContent));
    assert.deepEqual(labels, ['up close: "an oil painting of people and fire"', 'from far (blurred): "a lithograph of a skull"']);
  });

  it('B1: a digit drawn with the mouse is noised and denoised (closer to the drawing than the noisy input)', async () => {
    await drag(page, '#denoise-digit canvas.demo-pad', [
      [0.5, 0.15],
      [0.5, 0.85],
    ]);
    assert.match(await run(page, 'denoise-digit', 1), /^Done in/);
    const [drawn, noisy, denoised] = await Promise.all(
      [1, 2, 3].map((k) => canvasPixels(page, `#denoise-digit .demo-results figure:nth-child(${k}) canvas`, 1)),
    );
    assert.ok(
      drawn.data.some((v) => v > 0.5),
      'the stroke reached the model input',
    );
    assert.ok(meanAbs(denoised.data, drawn.data) < meanAbs(noisy.data, drawn.data) / 2);
    const node = runDemoJob(models, { kind: 'denoise-digit', image: drawn, sigma: 0.5, seed: 0 }).images[2].image;
    assert.ok(maxStepDifference(denoised, node) <= 2);
  });

  it('B2: each digit sampled in the browser is read as that digit by the judge (>= 90%), and matches Node', async () => {
    const judge = new DigitClassifier(new Rng(0));
    const judgeFile = path.join(DEMO_FIXTURES, 'digit-judge.f16.safetensors');
    judge.loadState(loadCheckpoint(judgeFile).values, judgeFile);
    const samples = new Float32Array(10 * 784);
    for (let d = 0; d < 10; d++) {
      await setInput(page, '#sample-digit select', String(d));
      assert.match(await run(page, 'sample-digit', d + 1), /^Done in/);
      samples.set((await canvasPixels(page, '#sample-digit .demo-results canvas', 1)).data, d * 784);
    }
    const predicted = judge.predict(samples, 10);
    const right = Array.from(predicted).filter((p, d) => p === d).length;
    judge.dispose();
    assert.ok(right >= 9, `the judge read ${right}/10 samples as the digit asked for: ${Array.from(predicted).join(' ')}`);
    const node = runDemoJob(models, { kind: 'sample-digit', digit: 9, guidance: 5, seed: 0, frameEvery: 10 }).images[0].image;
    const browser: Pixels = { width: 28, height: 28, channels: 1, data: samples.subarray(9 * 784) };
    assert.ok(maxStepDifference(browser, node) <= 2);
  });

  it('B1 without a pointer: the example button draws a digit that the keyboard can run', async () => {
    await page.$$eval('#denoise-digit .demo-buttons button', (bs) => bs.find((b) => b.textContent === 'Clear')!.click());
    await page.$$eval('#denoise-digit .demo-buttons button', (bs) => bs.find((b) => b.textContent === 'Draw a 7 for me')!.click());
    await page.focus('#denoise-digit button.demo-run');
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.querySelector('#denoise-digit').dataset.runs === '2'`);
    const drawn = await canvasPixels(page, '#denoise-digit .demo-results figure:nth-child(1) canvas', 1);
    assert.ok(drawn.data.filter((v) => v > 0.5).length > 20, 'the example stroke reached the model input');
  });

  it('fits a phone-width screen (no sideways scrolling at 375 px)', async () => {
    await page.setViewport({ width: 375, height: 800 });
    const [scroll, client] = (await page.evaluate(`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)) as [number, number];
    await page.setViewport({ width: 1000, height: 1200 });
    assert.ok(scroll <= client, `the page is ${scroll} px wide in a ${client} px window`);
  });

  it('logged no console errors', () => {
    assert.deepEqual(errors, []);
  });

  /**
   * A copy of the site, changed by `damage`, served on its own port and opened in a new page.
   * (Request interception would not do: it stalls the worker's own fetches.)
   */
  async function damagedSite(damage: (copy: string) => void): Promise<{ p: Page; copy: string; close(): Promise<void> }> {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-damaged-'));
    fs.cpSync(siteDir, copy, { recursive: true });
    damage(copy);
    const served = await serveStatic(copy, 0);
    const p = await chromium!.browser.newPage();
    await p.goto(`${served.url}try.html`, { waitUntil: 'load' });
    await p.waitForSelector('html[data-demo-ready]');
    return {
      p,
      copy,
      async close() {
        await p.close();
        served.server.close();
        fs.rmSync(copy, { recursive: true, force: true });
      },
    };
  }

  it('worker failures reach the page with the fix: the worker script missing, a model file cut short or absent', async () => {
    const model = 'demo/models/class-conditioned.f16.safetensors';
    const cases: Array<[(copy: string) => void, RegExp]> = [
      [(copy) => fs.rmSync(path.join(copy, 'demo', 'worker.js')), /demo worker could not start.*demo\/worker\.js.*npm run report/s],
      [
        (copy) => fs.truncateSync(path.join(copy, model), fs.statSync(path.join(copy, model)).size >> 1),
        /class-conditioned\.f16\.safetensors could not be read.*npm run report/s,
      ],
      [(copy) => fs.rmSync(path.join(copy, model)), /class-conditioned\.f16\.safetensors: HTTP 404.*npm run report/s],
    ];
    for (const [damage, expected] of cases) {
      const site = await damagedSite(damage);
      try {
        assert.match(await run(site.p, 'sample-digit', 1), expected);
        assert.equal(await site.p.$eval('#sample-digit button.demo-run', (e) => (e as unknown as { disabled: boolean }).disabled), false);
      } finally {
        await site.close();
      }
    }
  });

  it('an error the worker does not catch (thrown or rejected) stops the run and is shown, and the next run works', async () => {
    for (const failure of ["throw new Error('injected failure')", "Promise.reject(new Error('injected failure'))"]) {
      const worker = (copy: string) => path.join(copy, 'demo', 'worker.js');
      let original = '';
      // This worker fails as its first job starts; the next run gets the real script again.
      const site = await damagedSite((copy) => {
        original = fs.readFileSync(worker(copy), 'utf8');
        fs.writeFileSync(worker(copy), `${original}\nself.addEventListener('message', () => setTimeout(() => { ${failure}; }, 0));`);
      });
      try {
        assert.match(await run(site.p, 'sample-digit', 1), /demo worker stopped: injected failure\. Run it again/);
        fs.writeFileSync(worker(site.copy), original);
        assert.match(await run(site.p, 'sample-digit', 2), /^Done in/);
      } finally {
        await site.close();
      }
    }
  });

  it('from a file:// URL the page says how to serve it instead of failing', async () => {
    const p = await chromium!.browser.newPage();
    try {
      await p.goto(`file://${path.join(siteDir, 'try.html')}`, { waitUntil: 'load' });
      const status = await p.$eval('#text-to-image .demo-status', (e) => e.textContent ?? '');
      assert.match(status, /npm run serve/);
      assert.equal(await p.$eval('#text-to-image button.demo-run', (e) => (e as unknown as { disabled: boolean }).disabled), true);
    } finally {
      await p.close();
    }
  });
});
