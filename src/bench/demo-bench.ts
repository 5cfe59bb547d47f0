import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { textOption, UsageError } from '../cli/options';
import type { Page } from 'puppeteer-core';
import { writeFileAtomic } from '../lib/io/atomic';
import { launchChromium } from '../report/chromium';
import { serveStatic } from '../report/serve';

/**
 * `npm run bench -- demos`: the site's live demos in headless Chromium on this machine. For each
 * backend: the time to the first image of the text-to-image demo from a fresh page (worker start,
 * wasm compile, model download, 34 CFG steps), the per-step latency of a second run, and each
 * other demo's compute time; and the page weight the demos add (JavaScript, wasm, models).
 */

interface DemoTiming {
  demo: string;
  /** Milliseconds of computing in the worker, as the page reports it. */
  computeMs: number;
  /** Denoising steps (UNet calls per image; CFG doubles the batch, not the steps). */
  steps: number;
}

interface BackendResult {
  backend: string;
  /** Fresh page: from clicking Generate to the image on screen (includes the model download). */
  firstImageMs: number | null;
  /** Second text-to-image run: computing time / 33 steps. */
  textStepMs: number | null;
  demos: DemoTiming[];
  error?: string;
}

/** Runs one panel with the page's current form values; returns the worker's compute time. */
async function runPanel(page: Page, panel: string, timeoutMs: number): Promise<{ wallMs: number; computeMs: number; status: string }> {
  const runs = await page.$eval(`#${panel}`, (e) => Number((e as unknown as { dataset: { runs?: string } }).dataset.runs ?? 0));
  const t0 = Date.now();
  await page.click(`#${panel} button.demo-run`);
  await page.waitForFunction(`Number(document.querySelector('#${panel}').dataset.runs ?? 0) === ${runs + 1}`, { timeout: timeoutMs });
  const wallMs = Date.now() - t0;
  const status = await page.$eval(`#${panel} .demo-status`, (e) => e.textContent ?? '');
  if (!status.startsWith('Done')) throw new Error(`${panel}: ${status}`);
  const computeMs = await page.$eval(`#${panel}`, (e) => Number((e as unknown as { dataset: { computeMs?: string } }).dataset.computeMs));
  return { wallMs, computeMs, status };
}

async function paint(page: Page, selector: string): Promise<void> {
  const handle = (await page.$(selector))!;
  await handle.scrollIntoView();
  const box = (await handle.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
}

async function benchBackend(page: Page, url: string, backend: string): Promise<BackendResult> {
  const result: BackendResult = { backend, firstImageMs: null, textStepMs: null, demos: [] };
  await page.goto(`${url}try.html?backend=${backend}`, { waitUntil: 'load' });
  await page.waitForSelector('html[data-demo-ready]');
  const timeout = 600_000;
  const first = await runPanel(page, 'text-to-image', timeout);
  result.firstImageMs = first.wallMs;
  const second = await runPanel(page, 'text-to-image', timeout);
  result.textStepMs = second.computeMs / 33;
  result.demos.push({ demo: 'text to image (34 steps, CFG)', computeMs: second.computeMs, steps: 33 });
  await page.click('#text-to-image button.demo-stage2-run');
  const t0 = Date.now();
  await page.waitForSelector('#text-to-image .demo-stage2 canvas', { timeout });
  result.demos.push({ demo: 'stage II (25 steps, incl. its download)', computeMs: Date.now() - t0, steps: 25 });
  await paint(page, '#image-to-image canvas.demo-pad');
  result.demos.push({ demo: 'SDEdit (i_start 10)', computeMs: (await runPanel(page, 'image-to-image', timeout)).computeMs, steps: 23 });
  await paint(page, '#inpainting .demo-stack canvas:nth-child(2)');
  result.demos.push({ demo: 'inpainting', computeMs: (await runPanel(page, 'inpainting', timeout)).computeMs, steps: 33 });
  result.demos.push({ demo: 'visual anagram (2 prompts)', computeMs: (await runPanel(page, 'illusions', timeout)).computeMs, steps: 33 });
  const models = JSON.parse((await page.evaluate(`fetch('demo/models/models.json').then((r) => r.text())`)) as string) as { models: Record<string, unknown> };
  if (models.models.denoiser) {
    await paint(page, '#denoise-digit canvas.demo-pad');
    result.demos.push({ demo: 'B1 denoise a digit', computeMs: (await runPanel(page, 'denoise-digit', timeout)).computeMs, steps: 1 });
  }
  if (models.models['class-conditioned']) {
    result.demos.push({ demo: 'B2 sample a digit (T steps, CFG)', computeMs: (await runPanel(page, 'sample-digit', timeout)).computeMs, steps: 300 });
  }
  return result;
}

/** Bytes of the demo files by kind. */
function pageWeight(site: string): Array<{ part: string; bytes: number }> {
  const demo = path.join(site, 'demo');
  const sum = (dir: string, test: (f: string) => boolean) =>
    fs
      .readdirSync(dir)
      .filter(test)
      .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  const out = [
    { part: 'JavaScript (page + worker)', bytes: sum(demo, (f) => f.endsWith('.js')) },
    { part: 'wasm binaries', bytes: sum(demo, (f) => f.endsWith('.wasm')) },
    { part: 'example images', bytes: sum(path.join(demo, 'images'), () => true) },
  ];
  for (const f of fs
    .readdirSync(path.join(demo, 'models'))
    .filter((n) => n.endsWith('.safetensors'))
    .sort()) {
    out.push({ part: `model ${f}`, bytes: fs.statSync(path.join(demo, 'models', f)).size });
  }
  return out;
}

/** `diffusion bench demos`. */
export function demoBenchCommand(): Command {
  return new Command('demos')
    .description("the site's live demos in headless Chromium: time to the first image, per-step latency, each demo's compute time, page weight")
    .addOption(textOption('--site <dir>', 'a built site with the demos (from npm run report)', 'site'))
    .addOption(textOption('--backends <list>', 'comma-separated: wasm, webgl, cpu', 'wasm,webgl'))
    .addOption(textOption('--json <file>', 'also write the figures as JSON'))
    .action(runDemoBench);
}

async function runDemoBench(values: { site: string; backends: string; json?: string }): Promise<void> {
  const site = path.resolve(values.site);
  if (!fs.existsSync(path.join(site, 'try.html')))
    throw new UsageError(`${site} has no try.html: build the site with npm run report first, or pass --site DIR.`);
  const backends = values.backends.split(',');
  for (const b of backends) if (!['wasm', 'webgl', 'cpu'].includes(b)) throw new UsageError(`--backends: unknown backend "${b}" (wasm, webgl, cpu)`);
  const { server, url } = await serveStatic(site, 0);
  const chromium = await launchChromium();
  const results: BackendResult[] = [];
  try {
    for (const backend of backends) {
      const page = await chromium.browser.newPage();
      await page.setViewport({ width: 1000, height: 1200 });
      process.stderr.write(`[bench] demos on ${backend}...\n`);
      try {
        results.push(await benchBackend(page, url, backend));
      } catch (err) {
        results.push({ backend, firstImageMs: null, textStepMs: null, demos: [], error: (err as Error).message });
      } finally {
        await page.close();
      }
    }
  } finally {
    await chromium.close();
    server.close();
  }
  const weight = pageWeight(site);
  const lines: string[] = ['Live demos in headless Chromium (this machine, no GPU: WebGL is software-rendered)', ''];
  for (const r of results) {
    if (r.error) {
      lines.push(`${r.backend}: failed: ${r.error}`, '');
      continue;
    }
    lines.push(
      `${r.backend}: first image ${(r.firstImageMs! / 1000).toFixed(2)} s from a fresh page; text-to-image ${r.textStepMs!.toFixed(1)} ms per CFG step`,
    );
    for (const d of r.demos)
      lines.push(`  ${d.demo.padEnd(40)} ${(d.computeMs / 1000).toFixed(2).padStart(7)} s  (${(d.computeMs / d.steps).toFixed(1)} ms/step)`);
    lines.push('');
  }
  lines.push('Page weight the demos add:');
  for (const w of weight) lines.push(`  ${w.part.padEnd(40)} ${(w.bytes / 1e6).toFixed(2).padStart(7)} MB`);
  lines.push(`  ${'total'.padEnd(40)} ${(weight.reduce((n, w) => n + w.bytes, 0) / 1e6).toFixed(2).padStart(7)} MB`);
  process.stdout.write(lines.join('\n') + '\n');
  if (values.json) writeFileAtomic(values.json, JSON.stringify({ results, pageWeight: weight }, null, 2) + '\n');
}
