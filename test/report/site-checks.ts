import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Page } from 'puppeteer-core';
import { HtmlValidate } from 'html-validate';
import type { LaunchedBrowser } from '../../src/report/chromium';

/** Checks of a built site shared by the site tests and the end-to-end report test. */

const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

function htmlFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.html'))
    .sort();
}

/** html-validate's findings for every page, as "file:line:col rule: message". */
export async function htmlProblems(site: string): Promise<string[]> {
  const validator = new HtmlValidate({
    extends: ['html-validate:recommended'],
    rules: {
      // KaTeX positions every glyph with inline styles; that is its documented output.
      'no-inline-style': 'off',
      // Section ids come from headings like "1.2 Using the UNet" and so start with a digit:
      // valid HTML5 ids (any non-space characters), which the strict rule only flags because
      // they are awkward in CSS selectors. Relaxed mode still rejects spaces and empty ids.
      'valid-id': ['error', { relaxed: true }],
    },
  });
  const problems: string[] = [];
  for (const file of htmlFilesIn(site)) {
    const report = await validator.validateFile(path.join(site, file));
    for (const result of report.results) {
      for (const m of result.messages) problems.push(`${file}:${m.line}:${m.column} ${m.ruleId}: ${m.message}`);
    }
  }
  return problems;
}

/** linkinator over the whole site, fragments and CSS included: the broken links and every URL checked. */
export async function brokenLinks(site: string): Promise<{ broken: string[]; links: string[] }> {
  const { check } = (await importEsm('linkinator')) as {
    check(options: Record<string, unknown>): Promise<{ passed: boolean; links: { url: string; state: string; status?: number; parent?: string }[] }>;
  };
  const result = await check({ path: site, recurse: true, checkFragments: true, checkCss: true, concurrency: 20 });
  const broken = result.links.filter((l) => l.state === 'BROKEN').map((l) => `${l.url} (status ${l.status}, in ${l.parent})`);
  if (!result.passed && broken.length === 0) broken.push('linkinator did not pass');
  return { broken, links: result.links.map((l) => l.url) };
}

export interface PageFacts {
  images: number;
  broken: string[];
  tiny: string[];
  charts: number;
  chartSvgs: number;
  katex: number;
  katexErrors: number;
  mainFontLoaded: boolean;
}

/**
 * Opens a page in headless Chromium with every request off the machine blocked, and reports
 * console errors, blocked requests and what loaded. The caller closes `page`.
 */
export async function inspectPage(
  chromium: LaunchedBrowser,
  file: string,
): Promise<{
  problems: string[];
  offMachine: string[];
  facts: PageFacts;
  page: Page;
}> {
  const page = await chromium.browser.newPage();
  const problems: string[] = [];
  const offMachine: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('about:')) void request.continue();
    else {
      offMachine.push(url);
      void request.abort();
    }
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const facts = await page.evaluate(`(async () => {
    await document.fonts.ready;
    const images = [...document.querySelectorAll('main img')];
    return {
      images: images.length,
      broken: images.filter((img) => !img.complete || img.naturalWidth === 0).map((img) => img.src),
      // Layout sanity: a figure drawn smaller than 64 CSS pixels means the CSS collapsed it.
      tiny: images.filter((img) => img.getBoundingClientRect().width < 64).map((img) => img.src),
      charts: document.querySelectorAll('.chart').length,
      chartSvgs: document.querySelectorAll('.chart > svg path').length > 0 ? document.querySelectorAll('.chart > svg').length : 0,
      katex: document.querySelectorAll('.katex').length,
      katexErrors: document.querySelectorAll('.katex-error').length,
      mainFontLoaded: document.fonts.check('16px KaTeX_Main'),
    };
  })()`);
  return { problems, offMachine, facts: facts as PageFacts, page };
}

interface AxeResults {
  violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }>;
}

/**
 * axe-core's serious and critical accessibility violations on a page, as "rule (impact): help:
 * where". Run through the DevTools protocol, which the pages' CSP does not govern.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const results = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as AxeResults;
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}: ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(', ')}${v.nodes.length > 5 ? ` and ${v.nodes.length - 5} more` : ''}`,
    );
}
