import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { buildReport } from '../../src/report/build';
import { findChromium, launchChromium } from '../../src/report/chromium';
import { brokenLinks, htmlProblems, inspectPage } from './site-checks';
import { tempDir } from './site-fixtures';

/**
 * End to end: the real Part B.1 notebook executed headlessly by the tslab kernel with the smoke
 * profile, rendered into a site, and checked in a browser; then the freeze cache and a failing cell.
 */
describe('npm run report (smoke profile, end to end)', function () {
  this.timeout(300000);
  const root = tempDir('report-e2e');
  const notebooksDir = path.join(root, 'notebooks');
  const siteDir = path.join(root, 'site');
  const cacheDir = path.join(root, 'executed');
  const lines: string[] = [];
  const options = () => ({ profile: 'smoke', seed: 0, notebooksDir, siteDir, cacheDir, cellTimeoutSec: 240, log: (l: string) => lines.push(l) });

  before(async () => {
    fs.mkdirSync(notebooksDir);
    fs.copyFileSync('notebooks/b1-single-step-denoiser.ipynb', path.join(notebooksDir, 'b1-single-step-denoiser.ipynb'));
  });

  it('executes the notebook and writes a site with its figures', async () => {
    const r = await buildReport(options());
    assert.deepEqual(r.executed, ['b1-single-step-denoiser']);
    const manifest = JSON.parse(fs.readFileSync(path.join(siteDir, 'manifest.json'), 'utf8')) as { figures: Array<{ id: string; file: string }> };
    assert.deepEqual(manifest.figures.map((f) => f.id).sort(),
      ['denoised-epoch-1', 'denoised-epoch-2', 'loss-curve', 'noising', 'out-of-distribution']);
    assert.ok(lines.some((l) => /cell \d+\/\d+ done/.test(l)), 'progress names the cell');
  });

  it('gives valid HTML with no broken links', async () => {
    assert.deepEqual(await htmlProblems(siteDir), []);
    assert.deepEqual((await brokenLinks(siteDir)).broken, []);
  });

  it('loads every image and chart in Chromium, with no console error and no request off the machine', async function () {
    if (!findChromium()) this.skip();
    const chromium = await launchChromium();
    try {
      const { problems, offMachine, facts, page } = await inspectPage(chromium, path.join(siteDir, 'b1-single-step-denoiser.html'));
      assert.deepEqual(problems, []);
      assert.deepEqual(offMachine, []);
      assert.deepEqual(facts.broken, []);
      assert.equal(facts.images, 4);
      assert.equal(facts.charts, 1);
      assert.equal(facts.chartSvgs, 1);
      assert.ok(facts.katex > 0);
      await page.close();
    } finally {
      await chromium.close();
    }
  });

  it('executes nothing on a second build with nothing changed', async () => {
    const r = await buildReport(options());
    assert.deepEqual(r.executed, []);
    assert.deepEqual(r.cached, ['b1-single-step-denoiser']);
  });

  it('fails loudly on a failing cell and leaves the previous site untouched', async () => {
    const before = fs.readFileSync(path.join(siteDir, 'manifest.json'), 'utf8');
    const file = path.join(notebooksDir, 'b1-single-step-denoiser.ipynb');
    const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
    nb.cells.push({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: ["throw new Error('the test broke this notebook');"] });
    fs.writeFileSync(file, JSON.stringify(nb));
    await assert.rejects(buildReport(options()), (err: Error) => {
      assert.match(err.message, /b1-single-step-denoiser\.ipynb failed in cell \d+/);
      assert.match(err.message, /the test broke this notebook/);
      assert.match(err.message, /left as it was/);
      return true;
    });
    assert.equal(fs.readFileSync(path.join(siteDir, 'manifest.json'), 'utf8'), before);
  });
});
