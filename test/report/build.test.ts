import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { buildReport } from '../../src/report/build';
import { readReportConfig } from '../../src/report/config';
import { findChromium, launchChromium } from '../../src/report/chromium';
import { readNotebook } from '../../src/report/nbformat';
import { axeViolations, brokenLinks, htmlProblems, inspectPage } from './site-checks';
import { tempDir } from './site-fixtures';

/**
 * End to end: every notebook of the writeup executed headlessly by the tslab kernel with the smoke
 * profile, rendered into a site and checked in a browser; then the freeze cache and a failing cell.
 */
describe('npm run report (smoke profile, every notebook, end to end)', function () {
  this.timeout(900000);
  const root = tempDir('report-e2e');
  const siteDir = path.join(root, 'site');
  const cacheDir = path.join(root, 'executed');
  const lines: string[] = [];
  const options = (notebooksDir = 'notebooks') => ({
    profile: 'smoke',
    seed: 0,
    notebooksDir,
    siteDir,
    cacheDir,
    cellTimeoutSec: 300,
    log: (l: string) => lines.push(l),
  });
  const notebooks = readReportConfig().parts.flatMap((p) => p.notebooks);
  // The notebooks' figure files go to the temporary folder, not over the user's outputs/.
  const savedOutputs = process.env.DIFFUSION_OUTPUTS;
  before(() => {
    process.env.DIFFUSION_OUTPUTS = path.join(root, 'outputs');
  });
  after(() => {
    if (savedOutputs === undefined) delete process.env.DIFFUSION_OUTPUTS;
    else process.env.DIFFUSION_OUTPUTS = savedOutputs;
  });

  it('executes every notebook of the writeup and writes the site', async () => {
    const r = await buildReport(options());
    assert.deepEqual(r.executed, notebooks);
    assert.ok(
      lines.some((l) => /cell \d+\/\d+ done/.test(l)),
      'progress names the cell',
    );
  });

  it('every notebook produces exactly the figures it declares', () => {
    for (const name of notebooks) {
      const nb = readNotebook(path.join(cacheDir, `${name}.ipynb`));
      const meta = nb.metadata.diffusion as { figures?: string[]; optionalFigures?: string[] } | undefined;
      const declared = meta?.figures ?? [];
      assert.ok(declared.length > 0, `${name} declares its figures in metadata.diffusion.figures`);
      const pattern = (d: string) => new RegExp(`^${d.replace(/[-]/g, '\\-').replace(/\*/g, '[a-z0-9-]+')}$`);
      const patterns = declared.map(pattern);
      // Figures only some models make (the colour model's stage II); smoke runs the digits model.
      const optional = (meta?.optionalFigures ?? []).map(pattern);
      const ids = nb.cells
        .flatMap((c) => (c.cell_type === 'code' ? c.outputs : []))
        .map((o) => (o as { metadata?: { figure?: { id?: string } } }).metadata?.figure?.id)
        .filter((id): id is string => typeof id === 'string');
      for (const [i, p] of patterns.entries())
        assert.ok(
          ids.some((id) => p.test(id)),
          `${name}: no figure matches "${declared[i]}" (got ${ids.join(', ')})`,
        );
      for (const id of ids)
        assert.ok(
          [...patterns, ...optional].some((p) => p.test(id)),
          `${name}: figure "${id}" is not declared`,
        );
    }
  });

  it('gives valid HTML with no broken links', async () => {
    assert.deepEqual(await htmlProblems(siteDir), []);
    assert.deepEqual((await brokenLinks(siteDir)).broken, []);
  });

  it('loads every image and chart in Chromium, with no console error and no request off the machine', async function () {
    if (!findChromium()) this.skip();
    const chromium = await launchChromium();
    try {
      for (const name of ['index', ...notebooks]) {
        const { problems, offMachine, facts, page } = await inspectPage(chromium, path.join(siteDir, `${name}.html`));
        assert.deepEqual(problems, [], name);
        assert.deepEqual(offMachine, [], name);
        assert.deepEqual(facts.broken, [], name);
        assert.equal(facts.chartSvgs, facts.charts, `${name}: every chart has its SVG`);
        if (name !== 'index') assert.ok(facts.images > 0 && facts.katex > 0, `${name} shows figures and formulas`);
        assert.deepEqual(await axeViolations(page), [], `${name}: axe-core's serious and critical findings`);
        // Pictures are never shrunk below their own size on a laptop (their labels stay legible)...
        await page.setViewport({ width: 1366, height: 900 });
        const shrunk = (await page.evaluate(
          `[...document.querySelectorAll('main img.pixelated')].filter((i) => i.getBoundingClientRect().width < i.naturalWidth - 1).map((i) => i.src)`,
        )) as string[];
        assert.deepEqual(shrunk, [], `${name}: pictures shown smaller than they are`);
        // ...and a phone scrolls wide ones inside the page, not the page sideways.
        await page.setViewport({ width: 375, height: 800 });
        const [scroll, client] = (await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')) as number[];
        assert.ok(scroll <= client, `${name} is ${scroll} px wide in a ${client} px window`);
        await page.close();
      }
    } finally {
      await chromium.close();
    }
  });

  it('executes nothing on a second build with nothing changed', async () => {
    const r = await buildReport(options());
    assert.deepEqual(r.executed, []);
    assert.deepEqual(r.cached, notebooks);
  });

  it('rebuilt from scratch into another folder (every notebook executed again), the site is byte-identical', async () => {
    const again = path.join(root, 'site-again');
    const r = await buildReport({ ...options(), siteDir: again, cacheDir: path.join(root, 'executed-again') });
    assert.deepEqual(r.executed, notebooks);
    const files = (dir: string): string[] =>
      fs
        .readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .sort();
    assert.deepEqual(files(again), files(siteDir));
    const differ = files(siteDir).filter((f) => !fs.readFileSync(path.join(siteDir, f)).equals(fs.readFileSync(path.join(again, f))));
    assert.deepEqual(differ, [], 'files that differ between the two builds');
  });

  it('fails loudly on a failing cell and leaves the previous site untouched', async () => {
    const before = fs.readFileSync(path.join(siteDir, 'manifest.json'), 'utf8');
    const broken = path.join(root, 'broken-notebooks');
    fs.mkdirSync(broken);
    const nb = JSON.parse(fs.readFileSync('notebooks/b1-single-step-denoiser.ipynb', 'utf8'));
    // Broken at the end, after the notebook has written its figures.
    nb.cells.push({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: ["throw new Error('the test broke this notebook');"] });
    const figuresDir = path.join(root, 'outputs', 'b1-single-step-denoiser');
    const snapshot = () =>
      fs
        .readdirSync(figuresDir)
        .sort()
        .map((f) => [f, fs.readFileSync(path.join(figuresDir, f)).toString('base64')]);
    const figuresBefore = snapshot();
    assert.ok(figuresBefore.length > 0);
    fs.writeFileSync(path.join(broken, 'b1-single-step-denoiser.ipynb'), JSON.stringify(nb));
    // Another seed, so its figures differ from the site's.
    const config = { title: 'Broken', parts: [{ title: 'B', notebooks: ['b1-single-step-denoiser'] }] };
    await assert.rejects(buildReport({ ...options(broken), config, seed: 1, cacheDir: path.join(root, 'broken-cache') }), (err: Error) => {
      assert.match(err.message, /b1-single-step-denoiser\.ipynb failed in cell \d+/);
      assert.match(err.message, /the test broke this notebook/);
      assert.match(err.message, /left as it was/);
      return true;
    });
    assert.equal(fs.readFileSync(path.join(siteDir, 'manifest.json'), 'utf8'), before);
    assert.deepEqual(snapshot(), figuresBefore, "the failed build's figures did not replace the site's");
    assert.deepEqual(
      fs.readdirSync(path.join(root, 'outputs')).filter((f) => f.startsWith('.report-build-')),
      [],
      'no staging folder left',
    );
  });
});
