/**
 * Writes the static writeup: index.html (title, table of contents, parts), one page per notebook,
 * print.html (every page in order, for the PDF), shared assets, figure files and manifest.json.
 *
 * The site is built in a sibling temporary folder and swapped in at the end, so a build that fails
 * half-way leaves the previous site exactly as it was. Pages carry no timestamps: the same inputs
 * give the same bytes (the build time, when the caller passes one, goes only into manifest.json).
 */
import * as fs from 'fs';
import * as path from 'path';
import { IdRegistry } from './ids';
import { createMarkdown, type Heading } from './markdown';
import type { ExecutedNotebook } from './nbformat';
import { escapeAttr, escapeHtml, renderNotebook, type FigureFile, type RenderedNotebook, type RenderOptions } from './render';
import { FAVICON_SVG, SITE_CSS, SITE_JS } from './theme';
import { buildDemoFiles, DEMO_PAGE } from './demo-bundle';
import { DEMO_PANELS, type DemoModelIndex } from '../web/protocol';
import { packageVersion, versions } from '../lib/versions';
import { makeStagingFolder, removeDeadStagingFolders, replaceFolder } from '../lib/io/folders';

export interface SiteNotebook {
  /** Page name: <name>.html and figures/<name>/. Letters, digits, - and _. */
  name: string;
  notebook: ExecutedNotebook;
  /** Page title; defaults to the notebook's first level-1 heading. */
  title?: string;
  /** This notebook's run: seed, profile, backend, versions... copied into its figures' manifest entries. */
  metadata?: Record<string, unknown>;
}

/** A group of pages on the index, e.g. "Part A: ...", in reading order. */
export interface SitePart {
  title: string;
  /** Markdown shown under the part's heading on the index. */
  intro?: string;
  /** Page names, in order. */
  notebooks: string[];
}

export interface SiteOptions {
  /** The site folder, e.g. "site". Replaced as a whole when the build succeeds. */
  outDir: string;
  /** The writeup's title (index heading and every page's <title>). */
  title: string;
  /** Markdown shown under the title on the index. */
  intro?: string;
  parts: SitePart[];
  notebooks: SiteNotebook[];
  /** Pages written from markdown after the notebooks' (e.g. credits), linked from the index. */
  appendix?: Array<{ name: string; title: string; markdown: string }>;
  /** The build's run metadata (profile, backend, versions, ...): in manifest.json and in every figure's entry. */
  metadata?: Record<string, unknown>;
  /** ISO time of the build; written to manifest.json only (pages stay byte-identical). */
  buildTime?: string;
  /** The renderer; replaceable for tests. */
  render?: (nb: ExecutedNotebook, options: RenderOptions) => Promise<RenderedNotebook>;
  /** Folder chart specs resolve local data files against. */
  baseDir?: string;
  /** Build the live demos (try.html and demo/, see demo-bundle.ts) and link each page to its demos. */
  demo?: boolean;
  /** Notebook HTML as written instead of through the allow-list (see sanitize.ts). */
  trustNotebookHtml?: boolean;
}

/** A figure's manifest entry: the rendered file's facts (minus its bytes, as a file name and size) plus its run. */
export interface ManifestFigure extends Omit<FigureFile, 'path' | 'bytes'> {
  file: string;
  bytes: number;
  /** The build's metadata overlaid with the notebook's (seed, profile, backend, versions...). */
  run: Record<string, unknown>;
}

export interface ManifestPage {
  notebook: string;
  file: string;
  title: string;
  part: string;
  metadata: Record<string, unknown>;
}

export interface Manifest {
  title: string;
  builtAt?: string;
  builder: Record<string, string>;
  metadata: Record<string, unknown>;
  pages: ManifestPage[];
  figures: ManifestFigure[];
}

export interface SiteResult {
  dir: string;
  manifest: Manifest;
}

const KATEX_DIR = 'assets/katex';

/**
 * Refuses an output folder the build must not replace: a file, or a folder that holds anything
 * but a site this builder wrote (its manifest.json says so). A build replaces the whole folder,
 * so `--out docs` or `--out ~/` would otherwise delete what was there.
 */
export function assertReplaceableSite(outDir: string): void {
  if (!fs.existsSync(outDir)) return;
  if (!fs.statSync(outDir).isDirectory()) {
    throw new Error(`--out ${outDir} is a file, not a folder: give a new or empty folder for the site.`);
  }
  const entries = fs.readdirSync(outDir);
  if (entries.length === 0 || isOurSite(outDir)) return;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, ... (${entries.length} entries)` : '');
  throw new Error(
    `--out ${outDir} already holds files that are not a site built by this report (${shown}). A build replaces the whole ` +
      'folder, so it refuses: give a new or empty folder, or move those files away first.',
  );
}

/** A folder with a manifest.json of this builder: title, builder versions, pages and figures. */
function isOurSite(dir: string): boolean {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Partial<Manifest>;
    return typeof manifest.title === 'string' && typeof manifest.builder === 'object' && Array.isArray(manifest.pages) && Array.isArray(manifest.figures);
  } catch {
    return false;
  }
}

/** Builds the whole site into a temporary folder, then swaps it in for `outDir`. */
export async function buildSite(options: SiteOptions): Promise<SiteResult> {
  const outDir = path.resolve(options.outDir);
  assertReplaceableSite(outDir);
  const pages = orderPages(options);
  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  removeDeadStagingFolders(outDir);
  const tmpDir = makeStagingFolder(outDir);
  let manifest: Manifest;
  try {
    manifest = await writeSite(tmpDir, options, pages);
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
  replaceFolder(tmpDir, outDir);
  return { dir: outDir, manifest };
}

interface OrderedPage {
  entry: SiteNotebook;
  part: SitePart;
}

/** The pages in reading order; every notebook must be in exactly one part. */
function orderPages(options: SiteOptions): OrderedPage[] {
  const byName = new Map<string, SiteNotebook>();
  for (const nb of options.notebooks) {
    if (byName.has(nb.name)) throw new Error(`Notebook "${nb.name}" is given twice: pass each notebook once.`);
    byName.set(nb.name, nb);
  }
  const placed = new Set<string>();
  const pages: OrderedPage[] = [];
  for (const part of options.parts) {
    for (const name of part.notebooks) {
      const entry = byName.get(name);
      if (!entry) throw new Error(`Part "${part.title}" lists notebook "${name}", which was not given: add it to notebooks or remove it from the part.`);
      if (placed.has(name)) throw new Error(`Notebook "${name}" is listed in two parts: list it once.`);
      placed.add(name);
      pages.push({ entry, part });
    }
  }
  const unplaced = options.notebooks.filter((nb) => !placed.has(nb.name)).map((nb) => nb.name);
  if (unplaced.length > 0) throw new Error(`Notebooks ${unplaced.join(', ')} are in no part: add them to a part's notebooks list.`);
  if (pages.length === 0) throw new Error('The site has no pages: give at least one part with a notebook.');
  return pages;
}

/**
 * Renders and writes everything into `dir` (a fresh temporary folder, so plain writes are safe
 * here: the folder as a whole is what gets swapped in atomically).
 */
async function writeSite(dir: string, options: SiteOptions, pages: OrderedPage[]): Promise<Manifest> {
  const render = options.render ?? renderNotebook;
  const ids = new IdRegistry();
  // Ids the page templates use themselves.
  for (const reserved of ['content', 'contents']) ids.claim(reserved);
  for (const { entry } of pages) ids.claim(`page-${entry.name}`);

  const rendered: RenderedNotebook[] = [];
  let nextFigure = 1;
  for (const { entry } of pages) {
    const page = await render(entry.notebook, {
      name: entry.name,
      firstFigureNumber: nextFigure,
      ids,
      baseDir: options.baseDir,
      trustNotebookHtml: options.trustNotebookHtml,
    });
    nextFigure += page.figureCount;
    rendered.push(page);
  }

  const csp = contentSecurityPolicy(options.trustNotebookHtml === true);
  writeAssets(dir);
  const figures: ManifestFigure[] = [];
  rendered.forEach((page, i) => {
    const { entry } = pages[i];
    const run = { ...(options.metadata ?? {}), ...(entry.metadata ?? {}) };
    for (const file of page.files) {
      writeFile(dir, file.path, file.bytes);
      figures.push(manifestFigure(file, run));
    }
  });

  const demo = options.demo ? await buildDemoFiles(rendered.flatMap((page) => page.sharedModels)) : null;
  for (const file of demo?.files ?? []) writeFile(dir, file.path, file.bytes);

  const titles = rendered.map((page, i) => pages[i].entry.title ?? page.title);
  const writePage = (file: string, title: string, body: string) => writeFile(dir, file, pageHtml(options.title, title, body, demo !== null, csp));
  const md = createMarkdown();
  const markdownBlock = (text: string | undefined): string => (text ? md.render(text) : '');

  rendered.forEach((page, i) => {
    const prev = i > 0 ? { href: `${pages[i - 1].entry.name}.html`, title: titles[i - 1] } : null;
    const next = i + 1 < pages.length ? { href: `${pages[i + 1].entry.name}.html`, title: titles[i + 1] } : null;
    const pager =
      `<nav class="pager" aria-label="Previous and next page">` +
      (prev ? `<a rel="prev" href="${escapeAttr(prev.href)}">← ${escapeHtml(prev.title)}</a>` : '<span></span>') +
      (next ? `<a rel="next" href="${escapeAttr(next.href)}">${escapeHtml(next.title)} →</a>` : '<span></span>') +
      `</nav>`;
    // The demo links go under the page's title.
    const links = demo ? tryItLinks(page.name) : '';
    const html = links && page.html.includes('</h1>') ? page.html.replace(/<\/h1>\n?/, (end) => end + links) : links + page.html;
    const body = `<article>\n${html}</article>\n${pager}`;
    writePage(`${page.name}.html`, titles[i], body);
  });

  const appendix = options.appendix ?? [];
  for (const a of appendix) {
    if (pages.some((p) => p.entry.name === a.name) || ['index', 'print', 'try'].includes(a.name)) {
      throw new Error(`Appendix page "${a.name}" has the name of another page: rename it.`);
    }
    writePage(`${a.name}.html`, a.title, `<article>\n${md.render(a.markdown)}</article>\n`);
  }
  const toc = tableOfContents(options.parts, pages, rendered, titles, markdownBlock);
  const appendixToc = appendix.length
    ? `<ul class="appendix">\n${appendix.map((a) => `<li><a href="${escapeAttr(`${a.name}.html`)}">${escapeHtml(a.title)}</a></li>`).join('\n')}\n</ul>\n`
    : '';
  if (demo) writePage(DEMO_PAGE, 'Try it', tryItPage(demo.index));
  const indexBody =
    `<h1>${escapeHtml(options.title)}</h1>\n${markdownBlock(options.intro)}` +
    (demo ? `<p class="try-it"><a href="${DEMO_PAGE}">Try it</a>: the models of this writeup running in your browser.</p>\n` : '') +
    `<nav id="contents" aria-label="Table of contents">\n${toc}${appendixToc}</nav>\n` +
    `<p><a href="print.html">The whole writeup on one page</a> (for printing).</p>\n`;
  writePage('index.html', options.title, indexBody);

  const printBody =
    `<h1>${escapeHtml(options.title)}</h1>\n${markdownBlock(options.intro)}` +
    rendered.map((page) => `<section class="print-page" id="page-${page.name}">\n${page.html}</section>`).join('\n') +
    appendix.map((a) => `\n<section class="print-page">\n${md.render(a.markdown)}</section>`).join('') +
    '\n';
  writePage('print.html', options.title, printBody);

  const manifest: Manifest = {
    title: options.title,
    ...(options.buildTime ? { builtAt: options.buildTime } : {}),
    builder: builderVersions(),
    metadata: options.metadata ?? {},
    pages: pages.map(({ entry, part }, i) => ({
      notebook: entry.name,
      file: `${entry.name}.html`,
      title: titles[i],
      part: part.title,
      metadata: entry.metadata ?? {},
    })),
    figures,
  };
  writeFile(dir, 'manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** The note at the top of a page that links to its live demos. */
function tryItLinks(page: string): string {
  const panels = DEMO_PANELS.filter((p) => p.sections.some(([notebook]) => notebook === page));
  if (panels.length === 0) return '';
  const items = panels.map((p) => `<a href="${escapeAttr(`${DEMO_PAGE}#${p.id}`)}">${escapeHtml(p.linkText)}</a>`).join(', ');
  return `<aside class="try-it" aria-label="Try it in your browser"><p>Try it in your browser: ${items}.</p></aside>\n`;
}

/** try.html's body: the demos are built by demo/page.js into #demo-root. */
function tryItPage(index: DemoModelIndex): string {
  const models = Object.entries(index.models)
    .map(([name, m]) => `<li><code>${escapeHtml(name)}</code>: ${escapeHtml(m!.description)}, ${(m!.bytes / 1e6).toFixed(1)} MB</li>`)
    .join('\n');
  return (
    `<article>\n<h1>Try it: the models in your browser</h1>\n` +
    `<p>These demos run the writeup's own library code and models in this page, with TensorFlow.js in a Web Worker: ` +
    `nothing is sent anywhere. The same seed gives the same image as the library in Node. A model is downloaded the first time a demo needs it:</p>\n` +
    `<ul>\n${models}\n</ul>\n` +
    `<div id="demo-root">\n<p class="demo-noscript">The demos need JavaScript.</p>\n` +
    DEMO_PANELS.map((p) => `<section class="demo" id="${escapeAttr(p.id)}"><h2>${escapeHtml(p.title)}</h2></section>\n`).join('') +
    `</div>\n</article>\n<script src="demo/page.js"></script>\n`
  );
}

function tableOfContents(
  parts: SitePart[],
  pages: OrderedPage[],
  rendered: RenderedNotebook[],
  titles: string[],
  markdownBlock: (text: string | undefined) => string,
): string {
  const out: string[] = [];
  for (const part of parts) {
    const items = pages
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => p.part === part)
      .map(({ p, i }) => {
        const file = `${p.entry.name}.html`;
        const sections = rendered[i].headings.filter((h: Heading) => h.level === 2 || h.level === 3);
        const sub = sections.length
          ? `\n<ol>\n${sections.map((h) => `<li><a href="${escapeAttr(`${file}#${h.id}`)}">${escapeHtml(h.text)}</a></li>`).join('\n')}\n</ol>`
          : '';
        return `<li><a href="${escapeAttr(file)}">${escapeHtml(titles[i])}</a>${sub}</li>`;
      });
    out.push(
      `<section class="part">\n<h2>${escapeHtml(part.title)}</h2>\n${markdownBlock(part.intro)}` + `<ol class="toc">\n${items.join('\n')}\n</ol>\n</section>\n`,
    );
  }
  return out.join('');
}

/**
 * The pages' Content-Security-Policy: only the site's own files (scripts, styles, fonts, images,
 * the demos' worker and model downloads); inline style attributes for KaTeX; inline scripts only
 * when the author trusts the notebooks' HTML.
 */
export function contentSecurityPolicy(trustNotebookHtml: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self'${trustNotebookHtml ? " 'unsafe-inline'" : ''}`,
    "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function pageHtml(siteTitle: string, title: string, body: string, withDemo: boolean, csp: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<link rel="icon" href="assets/favicon.svg">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${KATEX_DIR}/katex.min.css">
<link rel="stylesheet" href="assets/style.css">
<script src="assets/site.js"></script>
</head>
<body>
<header class="site-header">
<a class="site-title" href="index.html">${escapeHtml(siteTitle)}</a>
<nav aria-label="Site"><a href="index.html#contents">Contents</a><a href="print.html">One page</a>${withDemo ? `<a href="${DEMO_PAGE}">Try it</a>` : ''}</nav>
<button type="button" class="theme-toggle" aria-label="Switch between light and dark theme">Theme</button>
</header>
<main id="content">
${body}
</main>
<footer class="site-footer">Built from the project's notebooks; see manifest.json for figure hashes and versions.</footer>
</body>
</html>
`;
}

function manifestFigure(file: FigureFile, run: Record<string, unknown>): ManifestFigure {
  return {
    file: file.path,
    sha256: file.sha256,
    bytes: file.bytes.length,
    mime: file.mime,
    notebook: file.notebook,
    id: file.id,
    anchor: file.anchor,
    number: file.number,
    caption: file.caption,
    width: file.width,
    height: file.height,
    metadata: file.metadata,
    run,
  };
}

/** The versions of what built the site (the run's own versions come from the caller). */
function builderVersions(): Record<string, string> {
  const out: Record<string, string> = { ...versions() };
  for (const name of ['markdown-it', '@vscode/markdown-it-katex', 'katex', 'vega', 'vega-lite']) {
    const v = packageVersion(name) ?? versionAboveEntry(name);
    if (v) out[name] = v;
  }
  return out;
}

/**
 * The version of a package whose "exports" hide its package.json (vega, vega-lite): found from
 * its entry file upwards.
 */
function versionAboveEntry(name: string): string | null {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === name && pkg.version) return pkg.version;
  }
  return null;
}

/** Site CSS and script, and KaTeX's stylesheet with its woff2 fonts (every current browser reads woff2). */
function writeAssets(dir: string): void {
  writeFile(dir, 'assets/style.css', SITE_CSS);
  writeFile(dir, 'assets/site.js', SITE_JS);
  writeFile(dir, 'assets/favicon.svg', FAVICON_SVG);
  const katexDist = path.dirname(require.resolve('katex/dist/katex.min.css'));
  const css = fs.readFileSync(path.join(katexDist, 'katex.min.css'), 'utf8');
  // Keep only the woff2 source of each @font-face, so the site ships a third of the font bytes.
  const woff2Only = css.replace(/src:([^;}]*)/g, (whole, sources: string) => {
    const woff2 = sources.split(',').find((s) => s.includes('format("woff2")'));
    return woff2 ? `src:${woff2}` : whole;
  });
  writeFile(dir, `${KATEX_DIR}/katex.min.css`, woff2Only);
  for (const m of woff2Only.matchAll(/url\((fonts\/[^)]+)\)/g)) {
    writeFile(dir, `${KATEX_DIR}/${m[1]}`, fs.readFileSync(path.join(katexDist, m[1])));
  }
}

function writeFile(dir: string, relative: string, data: string | Uint8Array): void {
  const file = path.join(dir, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}
