/**
 * One executed notebook (nbformat 4) -> an HTML fragment plus the figure files it refers to.
 * Pure: nothing is written here; site.ts writes the files. See docs/report.md for the conventions
 * notebook authors follow (figure metadata, cell tags).
 */
import { SHARED_MODEL_MIME, SHARED_MODEL_NAMES, SharedModelMetadata, SharedModelName } from '../writeup/contract';
import { DEMO_PAGE, SharedModel } from './demo-bundle';
import { DEMO_PANELS } from '../web/protocol';
import { sanitizeNotebookHtml } from './sanitize';
import { createHash } from 'crypto';
import { IdRegistry, slugify } from './ids';
import { createMarkdown, type Heading, type Markdown, type MarkdownEnv } from './markdown';
import { prefixSvgIds, vegaLiteToSvg } from '../writeup/notebook/vega-svg';
import { cellTags, type ExecutedNotebook, joinText, type MultilineText, type NotebookCell, type NotebookOutput } from './nbformat';

/** The caption metadata a display_data output (or its cell) carries; see docs/report.md. */
export interface FigureMetadata {
  id?: string;
  caption?: string;
  alt?: string;
  /** Display width in CSS pixels (the height follows the aspect ratio). */
  width?: number;
  /** Any other keys, kept for the manifest. */
  extra: Record<string, unknown>;
}

/** A file the page refers to, to be written at `path` (relative to the site root). */
export interface FigureFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  mime: string;
  notebook: string;
  /** The figure's id from its metadata, else null. */
  id: string | null;
  /** The <figure> element's id (link target) for a numbered figure, else null. */
  anchor: string | null;
  /** "Figure N" number, or null for an output without figure metadata. */
  number: number | null;
  caption: string | null;
  width: number | null;
  height: number | null;
  /** Other keys of the figure metadata (e.g. "section"), passed through to the manifest. */
  metadata: Record<string, unknown>;
}

export interface RenderOptions {
  /** The notebook's page name: letters, digits, - and _; figures go under figures/<name>/. */
  name: string;
  /** Number of the notebook's first captioned figure (figures are numbered across the site). */
  firstFigureNumber?: number;
  /** Ids already used on the site; a fresh registry when rendering one page alone. */
  ids?: IdRegistry;
  /** Folder against which chart specs resolve local data files. */
  baseDir?: string;
  /** Put notebook HTML (text/html outputs, raw HTML in markdown) in the page as written; default: through the allow-list (sanitize.ts). */
  trustNotebookHtml?: boolean;
}

export interface RenderedNotebook {
  name: string;
  /** The first level-1 heading's text, or the page name. */
  title: string;
  html: string;
  headings: Heading[];
  files: FigureFile[];
  /** How many numbered figures this notebook has. */
  figureCount: number;
  /** Models the notebook shared with the live demos (shareModel), in output order. */
  sharedModels: SharedModel[];
}

const IMAGE_TYPES: Record<string, string> = { 'image/png': 'png', 'image/gif': 'gif', 'image/jpeg': 'jpg', 'image/svg+xml': 'svg' };
const VEGA_LITE = /^application\/vnd\.vegalite\.v\d+\+json$/;
const LONG_STREAM_LINES = 20;
const LONG_STREAM_CHARS = 2000;
/**
 * Images are shown at the largest integer multiple of their size that stays within this width
 * (at least 1x), so their pixel-font labels are legible: it is about the text column's width.
 */
const UPSCALE_TARGET_PX = 840;
const VALID_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const VALID_FIGURE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** One markdown renderer per HTML policy, shared by every page. */
const sharedMarkdown = new Map<boolean, Markdown>();

/** Renders one executed notebook. Throws (naming the notebook, cell and fix) on malformed content. */
export async function renderNotebook(nb: ExecutedNotebook, options: RenderOptions): Promise<RenderedNotebook> {
  const { name } = options;
  if (!VALID_NAME.test(name)) {
    throw new Error(`Notebook page name "${name}" is not usable as a file name: use letters, digits, - and _ only.`);
  }
  if (!nb || !Array.isArray(nb.cells)) throw new Error(`Notebook ${name} has no cells array: is it an nbformat 4 notebook?`);
  const trust = options.trustNotebookHtml === true;
  if (!sharedMarkdown.has(trust)) sharedMarkdown.set(trust, createMarkdown({ trustHtml: trust }));
  const md = sharedMarkdown.get(trust)!;
  const state: RenderState = {
    name,
    md,
    env: { ids: options.ids ?? new IdRegistry(), headings: [] },
    nextFigure: options.firstFigureNumber ?? 1,
    files: [],
    baseDir: options.baseDir ?? process.cwd(),
    fileNames: new Set(),
    anchors: new Map(),
    sharedModels: [],
    trustHtml: trust,
  };
  reserveFigureIds(nb, state);
  const parts: string[] = [];
  for (let i = 0; i < nb.cells.length; i++) {
    const cell = nb.cells[i];
    const tags = cellTags(cell);
    if (tags.includes('remove-cell')) continue;
    if (cell.cell_type === 'markdown') {
      parts.push(`<div class="cell markdown">\n${md.render(joinText(cell.source), state.env)}</div>`);
    } else if (cell.cell_type === 'code') {
      const html = await renderCodeCell(cell, i + 1, tags, state);
      if (html) parts.push(html);
    }
  }
  const h1 = state.env.headings.find((h) => h.level === 1);
  return {
    name,
    title: h1 ? h1.text : name,
    html: parts.join('\n') + '\n',
    headings: state.env.headings,
    files: state.files,
    figureCount: state.nextFigure - (options.firstFigureNumber ?? 1),
    sharedModels: state.sharedModels,
  };
}

interface RenderState {
  name: string;
  md: Markdown;
  env: MarkdownEnv;
  nextFigure: number;
  files: FigureFile[];
  baseDir: string;
  fileNames: Set<string>;
  /** Figure id -> element id. */
  anchors: Map<string, string>;
  sharedModels: SharedModel[];
  trustHtml: boolean;
}

/** Joins nbformat's multiline text (a string or a list of lines). */
/**
 * Claims every figure's element id before anything else in the notebook, so a heading that
 * happens to slugify to the same text gets the suffix, never the figure an author links to.
 * Figure ids need only be unique within their notebook: when an earlier page already uses one,
 * the element id becomes "<notebook>-<id>" (ids are site-wide because of print.html).
 */
function reserveFigureIds(nb: ExecutedNotebook, state: RenderState): void {
  const seen = new Map<string, number>();
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code' || cellTags(cell).includes('remove-cell')) return;
    figureOutputs(cell).forEach(({ figure }) => {
      if (!figure?.id) return;
      const where = `Notebook ${state.name}, cell ${i + 1}`;
      if (!VALID_FIGURE_ID.test(figure.id)) {
        throw new Error(`${where}: figure id "${figure.id}" is not usable as an id and file name: use letters, digits, - and _ only.`);
      }
      if (seen.has(figure.id)) {
        throw new Error(`${where}: figure id "${figure.id}" is already used by cell ${seen.get(figure.id)}: give each figure of a notebook its own id.`);
      }
      seen.set(figure.id, i + 1);
      const anchor = state.env.ids.claim(figure.id) ? figure.id : state.env.ids.unique(`${state.name}-${figure.id}`);
      state.anchors.set(figure.id, anchor);
    });
  });
}

/** The outputs of a cell that show a picture or a chart, each with its figure metadata if any. */
function figureOutputs(cell: NotebookCell): { output: NotebookOutput; figure: FigureMetadata | null }[] {
  if (cellTags(cell).includes('remove-output')) return [];
  const visual = (cell.outputs ?? []).filter((o) => (o.output_type === 'display_data' || o.output_type === 'execute_result') && visualMime(o.data) !== null);
  // Cell-level metadata is the fallback for kernels whose display API cannot attach metadata:
  // cell.metadata.figures is a list matched in order, cell.metadata.figure applies to the first.
  const cellFigures = cellFigureList(cell);
  return visual.map((output, k) => {
    const own = 'metadata' in output ? output.metadata?.figure : undefined;
    const figure = parseFigureMetadata(own ?? cellFigures[k]);
    return { output, figure };
  });
}

function cellFigureList(cell: NotebookCell): unknown[] {
  const meta = cell.metadata ?? {};
  if (Array.isArray(meta.figures)) return meta.figures;
  if (meta.figure !== undefined) return [meta.figure];
  return [];
}

function parseFigureMetadata(value: unknown): FigureMetadata | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`Figure metadata must be an object like {"id": "...", "caption": "..."}, got ${JSON.stringify(value)}.`);
  }
  const v = value as Record<string, unknown>;
  const str = (key: string): string | undefined => {
    if (v[key] === undefined) return undefined;
    if (typeof v[key] !== 'string') throw new Error(`Figure metadata "${key}" must be a string, got ${JSON.stringify(v[key])}.`);
    return v[key] as string;
  };
  const width = v.width;
  if (width !== undefined && (typeof width !== 'number' || !(width > 0))) {
    throw new Error(`Figure metadata "width" must be a positive number of CSS pixels, got ${JSON.stringify(width)}.`);
  }
  const extra: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(v)) if (!['id', 'caption', 'alt', 'width'].includes(key)) extra[key] = val;
  return { id: str('id'), caption: str('caption'), alt: str('alt'), width: width as number | undefined, extra };
}

/** The MIME type to show for a bundle that holds a chart or an image, or null. */
function visualMime(data: Record<string, unknown>): string | null {
  const keys = Object.keys(data ?? {});
  const vega = keys.find((k) => VEGA_LITE.test(k));
  if (vega) return vega;
  for (const mime of ['image/svg+xml', 'image/png', 'image/gif', 'image/jpeg']) if (keys.includes(mime)) return mime;
  return null;
}

async function renderCodeCell(cell: NotebookCell, cellNumber: number, tags: string[], state: RenderState): Promise<string> {
  const parts: string[] = [];
  const source = joinText(cell.source).replace(/\s+$/, '');
  if (source && !tags.includes('remove-input')) {
    const label = cell.execution_count ? `Code [${cell.execution_count}]` : 'Code';
    parts.push(
      // Code is collapsed by default (Jupyter Book's hide-input); show-input opens it, unless the
      // cell also says hide-input.
      `<details class="code"${tags.includes('show-input') && !tags.includes('hide-input') ? ' open' : ''}><summary>${label}</summary>` +
        `<pre tabindex="0"><code class="language-typescript">${escapeHtml(source)}</code></pre></details>`,
    );
  }
  if (!tags.includes('remove-output')) {
    const figures = new Map(figureOutputs(cell).map((f) => [f.output, f.figure]));
    const outputs = cell.outputs ?? [];
    let imageRun: string[] = [];
    const flushImages = (): void => {
      if (imageRun.length > 1) parts.push(`<div class="output-grid">\n${imageRun.join('\n')}\n</div>`);
      else if (imageRun.length === 1) parts.push(imageRun[0]);
      imageRun = [];
    };
    for (let j = 0; j < outputs.length; j++) {
      const output = outputs[j];
      const where = `Notebook ${state.name}, cell ${cellNumber}, output ${j + 1}`;
      if (output.output_type === 'stream') {
        flushImages();
        // The kernel sends streams in chunks; consecutive chunks of one stream read as one block.
        let text = joinText(output.text);
        while (j + 1 < outputs.length) {
          const next = outputs[j + 1];
          if (next.output_type !== 'stream' || next.name !== output.name) break;
          text += joinText(next.text);
          j++;
        }
        parts.push(renderStream(output.name, text));
      } else if (output.output_type === 'error') {
        flushImages();
        parts.push(renderError(output.ename, output.evalue, output.traceback ?? []));
      } else if ((output.output_type === 'display_data' || output.output_type === 'execute_result') && SHARED_MODEL_MIME in output.data) {
        flushImages();
        try {
          parts.push(renderSharedModel(output.data[SHARED_MODEL_MIME], output.metadata, state));
        } catch (err) {
          throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
        }
      } else if (output.output_type === 'display_data' || output.output_type === 'execute_result') {
        const mime = visualMime(output.data);
        const figure = figures.get(output) ?? null;
        try {
          if (mime && VEGA_LITE.test(mime)) {
            flushImages();
            parts.push(await renderChart(output.data[mime], figure, cellNumber, j + 1, state));
          } else if (mime) {
            imageRun.push(renderImage(output.data[mime], mime, figure, cellNumber, j + 1, state));
          } else {
            flushImages();
            parts.push(renderRichText(output.data, state));
          }
        } catch (err) {
          throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
        }
      } else {
        const unknown = output as { output_type?: unknown };
        throw new Error(`${where}: unknown output_type ${JSON.stringify(unknown.output_type)}; expected stream, display_data, execute_result or error.`);
      }
    }
    flushImages();
  }
  const shown = parts.filter((p) => p !== '');
  if (shown.length === 0) return '';
  return `<div class="cell code-cell">\n${shown.join('\n')}\n</div>`;
}

function renderStream(name: string, raw: string): string {
  const text = cleanTerminalText(raw).replace(/\n$/, '');
  if (!text) return '';
  const lines = text.split('\n').length;
  // tabindex: a block that scrolls sideways can be scrolled from the keyboard.
  const pre = `<pre class="stream ${name === 'stderr' ? 'stderr' : 'stdout'}" tabindex="0">${escapeHtml(text)}</pre>`;
  if (lines <= LONG_STREAM_LINES && text.length <= LONG_STREAM_CHARS) return pre;
  return `<details class="stream-long"><summary>Output (${lines} lines)</summary>${pre}</details>`;
}

function renderError(ename: string, evalue: string, traceback: string[]): string {
  const trace = cleanTerminalText(traceback.join('\n'));
  return (
    `<div class="error-output" role="alert"><p><strong>${escapeHtml(ename)}</strong>: ${escapeHtml(evalue)}</p>` +
    (trace ? `<pre tabindex="0">${escapeHtml(trace)}</pre>` : '') +
    `</div>`
  );
}

/** A model shared with the live demos: kept for site/demo/models/, shown as a link to its demo. */
function renderSharedModel(payload: unknown, metadata: Record<string, unknown> | undefined, state: RenderState): string {
  const meta = metadata?.sharedModel as Partial<SharedModelMetadata> | undefined;
  if (!meta || !SHARED_MODEL_NAMES.includes(meta.name as SharedModelName) || typeof meta.description !== 'string') {
    throw new Error(`a shared model needs metadata {"sharedModel": {"name": one of ${SHARED_MODEL_NAMES.join(', ')}, "description"}} (use shareModel).`);
  }
  if (typeof payload !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(payload)) throw new Error(`${SHARED_MODEL_MIME} data must be a base64 string.`);
  const name = meta.name as SharedModelName;
  state.sharedModels.push({ name, description: meta.description, bytes: Buffer.from(payload, 'base64') });
  const demo = DEMO_PANELS.find((p) => p.sharedModel === name)!;
  return `<div class="try-it"><p>This model runs in your browser: <a href="${escapeAttr(`${DEMO_PAGE}#${demo.id}`)}">try ${escapeHtml(meta.description)}</a>.</p></div>`;
}

/** Output with no image: HTML (through the allow-list unless trusted), markdown rendered, else plain text. */
function renderRichText(data: Record<string, unknown>, state: RenderState): string {
  if (typeof data['text/html'] === 'string' || Array.isArray(data['text/html'])) {
    const html = joinText(data['text/html'] as MultilineText);
    return `<div class="output-html">${state.trustHtml ? html : sanitizeNotebookHtml(html)}</div>`;
  }
  if (typeof data['text/markdown'] === 'string' || Array.isArray(data['text/markdown'])) {
    return `<div class="output-markdown">${state.md.render(joinText(data['text/markdown'] as MultilineText), state.env)}</div>`;
  }
  if (typeof data['text/latex'] === 'string') {
    return `<div class="output-markdown">${state.md.render(data['text/latex'], state.env)}</div>`;
  }
  const plain = data['text/plain'];
  if (typeof plain === 'string' || Array.isArray(plain)) {
    const text = cleanTerminalText(joinText(plain as MultilineText));
    return text ? `<pre class="result" tabindex="0">${escapeHtml(text)}</pre>` : '';
  }
  return '';
}

function renderImage(payload: unknown, mime: string, figure: FigureMetadata | null, cellNumber: number, outputNumber: number, state: RenderState): string {
  let bytes: Buffer;
  if (mime === 'image/svg+xml') {
    bytes = Buffer.from(joinText(payload as MultilineText), 'utf8');
  } else {
    if (typeof payload !== 'string' && !Array.isArray(payload)) throw new Error(`${mime} data must be a base64 string.`);
    const base64 = joinText(payload as MultilineText).replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length === 0) throw new Error(`${mime} data is not valid base64.`);
    bytes = Buffer.from(base64, 'base64');
  }
  const size = imageSize(bytes, mime);
  if (mime !== 'image/svg+xml' && !size) throw new Error(`${mime} data is not a readable ${IMAGE_TYPES[mime]} image (bad header).`);
  const file = addFile(bytes, mime, figure, cellNumber, outputNumber, size, state);
  const alt = escapeAttr(figure?.alt ?? figure?.caption ?? `Output ${outputNumber} of cell ${cellNumber}`);
  let dims = '';
  let wide: number | null = null;
  if (size) {
    const width = Math.round(figure?.width ?? size.width * Math.max(1, Math.floor(UPSCALE_TARGET_PX / size.width)));
    dims = ` width="${width}" height="${Math.round((width * size.height) / size.width)}"`;
    // Wider than the text column: the figure may use the window's width, so it is not shrunk.
    if (width > UPSCALE_TARGET_PX) wide = width;
  }
  const img = `<a class="zoom" href="${escapeAttr(file.path)}">` + `<img class="pixelated" src="${escapeAttr(file.path)}" alt="${alt}"${dims}></a>`;
  return wrapFigure(img, file, 'image', wide);
}

async function renderChart(payload: unknown, figure: FigureMetadata | null, cellNumber: number, outputNumber: number, state: RenderState): Promise<string> {
  let spec = payload;
  if (typeof payload === 'string' || Array.isArray(payload)) {
    try {
      spec = JSON.parse(joinText(payload as MultilineText));
    } catch {
      throw new Error('Vega-Lite data is a string that is not JSON: display the spec object itself.');
    }
  }
  const svg = await vegaLiteToSvg(spec, state.baseDir);
  const bytes = Buffer.from(svg, 'utf8');
  const file = addFile(bytes, 'image/svg+xml', figure, cellNumber, outputNumber, null, state);
  const prefix = `${slugify(file.path.replace(/\.svg$/, ''))}-`;
  const label = escapeAttr(figure?.alt ?? figure?.caption ?? `Chart ${outputNumber} of cell ${cellNumber}`);
  const inline = prefixSvgIds(svg, prefix).replace(/^<svg /, `<svg role="img" aria-label="${label}" `);
  return wrapFigure(`<div class="chart">${inline}</div>`, file, 'chart');
}

/** Registers the bytes as a figure file, numbering it when it has figure metadata. */
function addFile(
  bytes: Buffer,
  mime: string,
  figure: FigureMetadata | null,
  cellNumber: number,
  outputNumber: number,
  size: { width: number; height: number } | null,
  state: RenderState,
): FigureFile {
  const number = figure ? state.nextFigure++ : null;
  let anchor: string | null = null;
  if (figure) anchor = figure.id ? state.anchors.get(figure.id)! : state.env.ids.unique(`${state.name}-figure-${number}`);
  const base = figure?.id ?? `cell${cellNumber}-output${outputNumber}`;
  const fileName = `${base}.${IMAGE_TYPES[mime]}`;
  if (state.fileNames.has(fileName)) throw new Error(`two outputs would both be written to ${fileName}: give the figures distinct ids.`);
  state.fileNames.add(fileName);
  const file: FigureFile = {
    path: `figures/${state.name}/${fileName}`,
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    mime,
    notebook: state.name,
    id: figure?.id ?? null,
    anchor,
    number,
    caption: figure?.caption ?? null,
    width: size?.width ?? null,
    height: size?.height ?? null,
    metadata: figure?.extra ?? {},
  };
  state.files.push(file);
  return file;
}

/** A figure (numbered, captioned) or a plain output; `wide`: its picture's width in CSS px when wider than the text. */
function wrapFigure(body: string, file: FigureFile, kind: 'image' | 'chart', wide: number | null = null): string {
  const wideAttrs = wide === null ? '' : ` style="--wide: ${wide}px"`;
  const wideClass = wide === null ? '' : ` output-wide`;
  if (file.number === null) return `<div class="output-${kind}${wideClass}"${wideAttrs}>${body}</div>`;
  const caption = file.caption ? ` ${inlineMarkdown(file.caption)}` : '';
  return (
    `<figure class="figure figure-${kind}${wideClass}" id="${escapeAttr(file.anchor ?? '')}"${wideAttrs}>${body}` +
    `<figcaption><span class="figure-number">Figure ${file.number}:</span>${caption}</figcaption></figure>`
  );
}

/** Captions: inline markdown through the allow-list (they come from notebook metadata). */
function inlineMarkdown(text: string): string {
  if (!sharedMarkdown.has(false)) sharedMarkdown.set(false, createMarkdown());
  return sharedMarkdown.get(false)!.renderInline(text);
}

/** Pixel size from the image header: PNG IHDR, GIF logical screen, JPEG SOFn. */
export function imageSize(bytes: Buffer, mime: string): { width: number; height: number } | null {
  if (mime === 'image/png') {
    if (bytes.length < 24 || bytes.toString('latin1', 1, 4) !== 'PNG' || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (mime === 'image/gif') {
    if (bytes.length < 10 || bytes.toString('latin1', 0, 3) !== 'GIF') return null;
    return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (mime === 'image/jpeg') {
    if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
    let at = 2;
    while (at + 9 < bytes.length) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1];
      const length = bytes.readUInt16BE(at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
      }
      at += 2 + length;
    }
    return null;
  }
  return null;
}

/** Drops ANSI colour codes and applies carriage returns (progress bars keep their last state). */
export function cleanTerminalText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const noAnsi = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return noAnsi
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r+$/, '');
      const cut = trimmed.lastIndexOf('\r');
      return cut >= 0 ? trimmed.slice(cut + 1) : trimmed;
    })
    .join('\n');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}
