import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { pathToFileURL } from 'url';
import { findChromium, launchChromium, type LaunchedBrowser } from '../../src/report/chromium';
import { printSiteToPdf } from '../../src/report/pdf';
import { renderNotebook } from '../../src/report/render';
import { buildSite, type Manifest, type SiteOptions } from '../../src/report/site';
import { forwardNotebook, tempDir, trainingNotebook } from './site-fixtures';
import { brokenLinks, htmlProblems, inspectPage } from './site-checks';

const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

function siteOptions(outDir: string): SiteOptions {
  return {
    outDir,
    title: 'Diffusion Models from Scratch',
    intro: 'Sampling, editing and training diffusion models: $\\epsilon_\\theta(x_t, t)$.',
    parts: [
      { title: 'Part A: Diffusion Models Exploration', intro: 'Sampling loops and edits.', notebooks: ['forward'] },
      { title: 'Part B: Training Diffusion Models from Scratch', notebooks: ['training'] },
    ],
    notebooks: [
      { name: 'training', notebook: trainingNotebook(), metadata: { seed: 7, profile: 'smoke' } },
      { name: 'forward', notebook: forwardNotebook(), metadata: { seed: 3037150359, profile: 'smoke' } },
    ],
    metadata: { backend: 'wasm', versions: { '@tensorflow/tfjs-core': '4.22.0' } },
  };
}

/** Every file under dir (relative path -> sha256). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else
        out[rel] = createHash('sha256')
          .update(fs.readFileSync(path.join(dir, rel)))
          .digest('hex');
    }
  };
  walk('');
  return out;
}

function htmlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.html'))
    .sort();
}

describe('report/site', function () {
  this.timeout(60_000);
  let root: string;
  let site: string;
  let manifest: Manifest;

  before(async () => {
    root = tempDir('report-site');
    site = path.join(root, 'site');
    manifest = (await buildSite(siteOptions(site))).manifest;
  });

  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes the index, one page per notebook in part order, print.html, assets and figures', () => {
    assert.deepEqual(htmlFiles(site), ['forward.html', 'index.html', 'print.html', 'training.html']);
    const index = fs.readFileSync(path.join(site, 'index.html'), 'utf8');
    assert.match(index, /<title>Diffusion Models from Scratch<\/title>/);
    assert.match(index, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    const partA = index.indexOf('Part A: Diffusion Models Exploration');
    const partB = index.indexOf('Part B: Training Diffusion Models from Scratch');
    assert.ok(partA > 0 && partB > partA, 'Part A comes before Part B');
    assert.match(index, /<a href="forward\.html#1-1-forward-process">1\.1 Forward Process<\/a>/);
    assert.match(index, /<a href="training\.html">Part B: Training<\/a>/);
    const forward = fs.readFileSync(path.join(site, 'forward.html'), 'utf8');
    assert.match(forward, /<a rel="next" href="training\.html">/);
    for (const file of ['assets/style.css', 'assets/site.js', 'assets/katex/katex.min.css', 'assets/katex/fonts/KaTeX_Main-Regular.woff2']) {
      assert.ok(fs.existsSync(path.join(site, file)), `${file} is shipped with the site`);
    }
    // No leftovers of the build next to the site.
    assert.deepEqual(fs.readdirSync(root), ['site']);
  });

  it('uses relative links only: no page or stylesheet names another host', () => {
    for (const file of [...htmlFiles(site), 'assets/style.css', 'assets/katex/katex.min.css']) {
      const text = fs.readFileSync(path.join(site, file), 'utf8');
      const refs = [...text.matchAll(/(?:href|src)="([^"]*)"|url\(([^)]*)\)/g)].map((m) => m[1] ?? m[2]);
      for (const ref of refs) assert.doesNotMatch(ref, /^(?:[a-z]+:|\/)/i, `${file} refers to ${ref}`);
    }
  });

  it('lists every figure in manifest.json with its SHA-256, notebook and the run metadata', () => {
    const onDisk = JSON.parse(fs.readFileSync(path.join(site, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(onDisk, manifest);
    assert.deepEqual(
      manifest.figures.map((f) => [f.file, f.notebook, f.number]),
      [
        ['figures/forward/noisy-campanile.png', 'forward', 1],
        ['figures/forward/cell4-output1.png', 'forward', null],
        ['figures/forward/cell4-output2.png', 'forward', null],
        ['figures/training/loss-curve.svg', 'training', 2],
      ],
    );
    for (const figure of manifest.figures) {
      const bytes = fs.readFileSync(path.join(site, figure.file));
      assert.equal(figure.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(figure.bytes, bytes.length);
    }
    assert.deepEqual(manifest.figures[0].run, { backend: 'wasm', versions: { '@tensorflow/tfjs-core': '4.22.0' }, seed: 3037150359, profile: 'smoke' });
    assert.equal(manifest.figures[3].run.seed, 7);
    assert.equal(manifest.figures[0].caption, 'Noisy Campanile at $t = 250, 500, 750$');
    assert.ok(manifest.builder.katex && manifest.builder['vega-lite'] && manifest.builder.node, 'builder versions are recorded');
    assert.equal(manifest.builtAt, undefined, 'no build time unless the caller passes one');
    assert.deepEqual(
      manifest.pages.map((p) => [p.notebook, p.part]),
      [
        ['forward', 'Part A: Diffusion Models Exploration'],
        ['training', 'Part B: Training Diffusion Models from Scratch'],
      ],
    );
  });

  it('passes html-validate', async () => {
    assert.deepEqual(await htmlProblems(site), []);
  });

  it('has no broken internal links or anchors (linkinator)', async () => {
    const { broken, links } = await brokenLinks(site);
    assert.deepEqual(broken, []);
    assert.ok(
      links.some((url) => url.includes('KaTeX_Main-Regular.woff2')),
      'font files in the CSS were checked',
    );
    const { check } = (await importEsm('linkinator')) as { check(o: Record<string, unknown>): Promise<{ links: { url: string; state: string }[] }> };
    // The same check does catch a missing anchor (so the pass above means something).
    const bad = path.join(root, 'bad-links');
    fs.mkdirSync(bad);
    try {
      fs.copyFileSync(path.join(site, 'forward.html'), path.join(bad, 'forward.html'));
      fs.writeFileSync(path.join(bad, 'index.html'), '<!DOCTYPE html><title>x</title><a href="forward.html#no-such-section">x</a>');
      const caught = await check({ path: path.join(bad, 'index.html'), checkFragments: true });
      assert.deepEqual(
        caught.links.filter((l) => l.state === 'BROKEN').map((l) => path.basename(l.url)),
        ['forward.html#no-such-section'],
      );
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });

  it('gives identical bytes when built twice from the same inputs', async () => {
    const second = path.join(root, 'again');
    try {
      const again = await buildSite(siteOptions(second));
      assert.deepEqual(
        again.manifest.figures.map((f) => f.sha256),
        manifest.figures.map((f) => f.sha256),
      );
      assert.deepEqual(snapshot(second), snapshot(site), 'every file, pages included');
    } finally {
      fs.rmSync(second, { recursive: true, force: true });
    }
  });

  it('leaves the previous site untouched when a build fails half-way', async () => {
    const before = snapshot(site);
    let rendered = 0;
    const options: SiteOptions = {
      ...siteOptions(site),
      render: async (nb, opts) => {
        if (++rendered === 2) throw new Error('renderer exploded');
        return renderNotebook(nb, opts);
      },
    };
    await assert.rejects(buildSite(options), /renderer exploded/);
    assert.equal(rendered, 2);
    assert.deepEqual(snapshot(site), before);
    assert.deepEqual(fs.readdirSync(root), ['site'], 'the temporary build folder is removed');
    // A successful rebuild swaps in cleanly and removes the old copy, and also the temporary
    // folder of a build that was killed (its process no longer exists).
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.mkdirSync(path.join(root, `.site.build-${deadPid}-0badf00d`));
    await buildSite(siteOptions(site));
    assert.deepEqual(snapshot(site), before);
    assert.deepEqual(fs.readdirSync(root), ['site']);
  });

  it('rejects a notebook that is in no part, before writing anything', async () => {
    const options = siteOptions(path.join(root, 'other'));
    options.parts = [options.parts[0]];
    await assert.rejects(buildSite(options), /Notebooks training are in no part: add them to a part/);
    assert.deepEqual(fs.readdirSync(root), ['site']);
  });

  describe('in headless Chromium', function () {
    let chromium: LaunchedBrowser | null = null;

    before(async function () {
      if (!findChromium()) {
        console.warn('    Skipping browser checks: /usr/bin/chromium is absent (apt-get install -y chromium, or set CHROMIUM_PATH).');
        this.skip();
      }
      chromium = await launchChromium();
    });

    after(async () => {
      if (chromium) await chromium.close();
    });

    for (const file of ['index.html', 'forward.html', 'training.html', 'print.html']) {
      it(`${file}: loads every image, chart and formula, with no console error and no request off the machine`, async () => {
        const { problems, offMachine, facts: f, page } = await inspectPage(chromium!, path.join(site, file));
        assert.deepEqual(offMachine, []);
        assert.deepEqual(problems, []);
        assert.deepEqual(f.broken, []);
        assert.deepEqual(f.tiny, []);
        assert.equal(f.chartSvgs, f.charts, 'every chart has its SVG');
        assert.equal(f.katexErrors, 0);
        const expected = { 'index.html': [0, 0], 'forward.html': [3, 0], 'training.html': [0, 1], 'print.html': [3, 1] }[file]!;
        assert.deepEqual([f.images, f.charts], expected);
        assert.ok(f.katex > 0, 'KaTeX rendered the math');
        await page.close();
      });
    }

    it('switches theme and enlarges a figure on click', async () => {
      const page = await chromium!.browser.newPage();
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
      await page.goto(pathToFileURL(path.join(site, 'forward.html')).href, { waitUntil: 'load' });
      const background = (): Promise<unknown> => page.evaluate('getComputedStyle(document.body).backgroundColor');
      assert.equal(await background(), 'rgb(21, 23, 27)', 'dark theme follows the system');
      await page.click('.theme-toggle');
      assert.equal(await background(), 'rgb(255, 255, 255)', 'the toggle switches to light');
      await page.click('#noisy-campanile a.zoom');
      const zoom = await page.evaluate(
        `(() => { const box = document.querySelector('.lightbox'); return [box.hidden, box.querySelector('img').getAttribute('src')]; })()`,
      );
      assert.deepEqual(zoom, [false, 'figures/forward/noisy-campanile.png']);
      await page.keyboard.press('Escape');
      assert.equal(await page.evaluate(`document.querySelector('.lightbox').hidden`), true);
      // Narrow phone screen: nothing wider than the viewport.
      await page.setViewport({ width: 360, height: 740 });
      assert.equal(await page.evaluate('document.documentElement.scrollWidth <= 360'), true);
      await page.close();
    });

    it('prints the site to one PDF', async () => {
      const out = path.join(root, 'writeup.pdf');
      const { bytes } = await printSiteToPdf({ siteDir: site, outFile: out, browser: chromium!.browser });
      const pdf = fs.readFileSync(out);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.equal(pdf.length, bytes);
      const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length;
      assert.ok(pages >= 2, `each notebook starts a page (got ${pages} pages)`);
      fs.rmSync(out);
    });
  });

  it('replaces only a site of its own: a folder holding other files (or a file) is refused and left as it was', async () => {
    const other = path.join(root, 'docs');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'keep.md'), 'mine\n');
    await assert.rejects(buildSite(siteOptions(other)), /--out .*docs already holds files that are not a site built by this report \(keep\.md\)/);
    assert.equal(fs.readFileSync(path.join(other, 'keep.md'), 'utf8'), 'mine\n');
    assert.deepEqual(
      fs.readdirSync(root).filter((n) => n.startsWith('.docs.')),
      [],
      'no build folder left beside it',
    );
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'x');
    await assert.rejects(buildSite(siteOptions(file)), /is a file, not a folder/);
    // An empty folder, and a site this builder wrote, are fine (the second build replaces the first).
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    await buildSite(siteOptions(empty));
    await buildSite(siteOptions(empty));
    assert.ok(fs.existsSync(path.join(empty, 'manifest.json')));
  });
});
