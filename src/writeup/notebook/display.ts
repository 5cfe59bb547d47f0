import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BackendInfo, describeBackend, initBackend } from '../../lib/backend/select';
import { runtimeOptions } from '../../lib/runtime-options';
import {
  FIGURES_DIR_ENV_VAR,
  PROGRESS_LINE_PREFIX,
  PROGRESS_STDERR_ENV_VAR,
  RUN_INFO_MIME,
  RunInfo,
  SHARED_MODEL_MIME,
  SHARED_MODEL_NAMES,
  SharedModelMetadata,
  SharedModelName,
} from '../contract';
import { VegaLiteSpec } from '../../lib/display/charts';
import { prefixSvgIds, svgToPng, vegaLiteToSvg } from './vega-svg';
import { RgbImage } from '../../lib/display/image';
import { encodePng } from '../../lib/display/png';
import { writeFileAtomic } from '../../lib/io/atomic';
import { outputsPath } from '../../lib/io/outputs';
import { ProgressCallback, ProgressEvent, formatDuration } from '../../lib/progress';
import { TrainConfig } from '../../lib/train/config';
import { encodeNetworkFile } from '../../lib/train/network-file';
import { TrainableNet } from '../../lib/train/networks';

/**
 * The bridge between notebooks and the library: shows figures and charts in Jupyter (through the
 * tslab kernel) and writes each figure to outputs/<notebook>/ as a file plus a JSON record, so
 * the report builder and users can find it. Outside a kernel (plain node), it prints a line instead.
 *
 * A figure's display_data carries metadata {"figure": {"id", "caption"}}: the report builder
 * numbers those and prints the caption under them.
 */

interface DisplayMessage {
  data: Record<string, string | object>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

type WriteDisplay = (msg: DisplayMessage, update: boolean) => void;

/** tslab's display channel when this code runs inside its kernel, else null. */
function kernelDisplay(): WriteDisplay | null {
  try {
    // The kernel itself is node_modules/tslab, so this resolves to the same module instance.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: WriteDisplay | null };
    return jupyter.lastWriteDisplayData;
  } catch {
    return null;
  }
}

export interface NotebookParams {
  profile: string;
  seed: number;
  [key: string]: string | number | boolean;
}

export interface NotebookContext {
  /** Short name, e.g. "b1-single-step-denoiser"; figures go to outputs/<name>/. */
  name: string;
  params: NotebookParams;
  backend: BackendInfo;
  outDir: string;
}

export interface FigureInfo {
  /** Stable id within the notebook, used as the file name (letters, digits, '-'). */
  id: string;
  caption: string;
  /** SPEC section, e.g. "B1.2.1". */
  section: string;
  /**
   * What the figure shows, in words (the site's alt text). Default: the description a layout
   * helper gave the image (e.g. imageGrid's rows and columns), else the caption.
   */
  alt?: string;
}

/** Starts a notebook: initialises the backend and the notebook's output folder. */
export async function startNotebook(name: string, params: NotebookParams): Promise<NotebookContext> {
  const backend = await initBackend();
  // A report build collects a notebook's files aside and moves them into outputs/ only when the
  // whole build succeeds, so outputs/<notebook>/ always matches the published site.
  const staging = process.env[FIGURES_DIR_ENV_VAR];
  const outDir = staging ? path.join(staging, name) : outputsPath(name);
  fs.mkdirSync(outDir, { recursive: true });
  const run: RunInfo = { backend: describeBackend(backend), runtime: runtimeOptions() };
  emit(
    { data: { [RUN_INFO_MIME]: run, 'text/plain': `Running on ${run.backend}.` }, metadata: { runInfo: true }, transient: {} },
    `[diffusion] notebook ${name} running on ${run.backend}`,
  );
  return { name, params, backend, outDir };
}

function checkId(id: string): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) {
    throw new Error(`Figure id "${id}" must be lower-case letters, digits and '-' (it becomes a file name).`);
  }
}

function record(ctx: NotebookContext, info: FigureInfo, file: string, bytes: Uint8Array, extra: Record<string, unknown> = {}): void {
  const rec = {
    ...info,
    notebook: ctx.name,
    file: path.basename(file),
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    profile: ctx.params.profile,
    seed: ctx.params.seed,
    backend: ctx.backend.name,
    threads: ctx.backend.threads,
    ...extra,
  };
  writeFileAtomic(path.join(ctx.outDir, `${info.id}.json`), JSON.stringify(rec, null, 2) + '\n');
}

function emit(msg: DisplayMessage, fallback: string): void {
  const write = kernelDisplay();
  if (write) write(msg, false);
  else process.stdout.write(fallback + '\n');
}

/** The figure metadata of a display message: what the report builder numbers and captions. */
function figureMetadata(info: FigureInfo): Record<string, string> {
  const { id, caption, section, alt } = info;
  return alt ? { id, caption, section, alt } : { id, caption, section };
}

/** Shows an image (PNG) or an animation (GIF bytes) with its caption and saves it. */
export function showFigure(ctx: NotebookContext, image: RgbImage | { gif: Uint8Array; description?: string }, info: FigureInfo): void {
  checkId(info.id);
  const isGif = 'gif' in image;
  const bytes = isGif ? image.gif : encodePng(image);
  const file = path.join(ctx.outDir, `${info.id}.${isGif ? 'gif' : 'png'}`);
  const described: FigureInfo = { ...info, alt: info.alt ?? image.description };
  writeFileAtomic(file, bytes);
  record(ctx, described, file, bytes);
  emit(
    {
      data: { [isGif ? 'image/gif' : 'image/png']: Buffer.from(bytes).toString('base64'), 'text/plain': `Figure: ${info.caption}` },
      metadata: { figure: figureMetadata(described) },
      transient: {},
    },
    `[figure ${info.id}] ${info.caption} -> ${file}`,
  );
}

/**
 * Shows a vega-lite chart and saves its spec and its SVG rendering. The display carries the spec
 * (JupyterLab, VS Code and the site draw it), the same chart as SVG (for front ends with no
 * Vega-Lite renderer, e.g. Notebook 6) and `text` as the plain-text fallback and alt text.
 */
export async function showChart(ctx: NotebookContext, spec: VegaLiteSpec, info: FigureInfo & { text: string }): Promise<void> {
  checkId(info.id);
  const json = JSON.stringify(spec);
  const svg = prefixSvgIds(await vegaLiteToSvg(spec), `${ctx.name}-${info.id}-`);
  // Front ends with a Vega-Lite renderer (JupyterLab, Notebook 7) draw the spec; the others
  // (Notebook 6, nbconvert's HTML and PDF exports, GitHub) show the PNG. No SVG in the bundle:
  // nbconvert 6.5 would prefer it to the PNG and then strip it to nothing.
  const { png, width, height } = await svgToPng(svg);
  const file = path.join(ctx.outDir, `${info.id}.vl.json`);
  const svgFile = path.join(ctx.outDir, `${info.id}.svg`);
  const described: FigureInfo = { id: info.id, caption: info.caption, section: info.section, alt: info.alt ?? chartAltText(spec, info.text) };
  writeFileAtomic(file, json);
  writeFileAtomic(svgFile, svg);
  record(ctx, described, file, Buffer.from(json), { chart: true, svg: path.basename(svgFile) });
  emit(
    {
      data: { 'application/vnd.vegalite.v5+json': spec, 'image/png': png.toString('base64'), 'text/plain': info.text },
      metadata: { figure: figureMetadata(described), 'image/png': { width, height } },
      transient: {},
    },
    `[chart ${info.id}] ${info.caption}: ${info.text}`,
  );
}

/** A chart's alt text: what its spec says it shows, then its numbers. */
function chartAltText(spec: VegaLiteSpec, text: string): string {
  const description = typeof spec.description === 'string' ? spec.description : '';
  return description ? `${description} ${text}` : text;
}

/**
 * A progress callback that redraws one line in the notebook (a display entry updated in place),
 * for training and sampling loops.
 */
export function notebookProgress(label: string): ProgressCallback {
  const id = crypto.randomBytes(8).toString('hex');
  let shown = false;
  let last = 0;
  return (e: ProgressEvent) => {
    // At most four redraws a second (and the last one): each is a message to the notebook.
    const now = Date.now();
    if (e.done < e.total && now - last < 250) return;
    last = now;
    const pct = e.total > 0 ? Math.round((100 * e.done) / e.total) : 0;
    const info = e.info
      ? Object.entries(e.info)
          .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
          .join(' ')
      : '';
    const eta = e.etaSec === null ? '' : ` eta ${formatDuration(e.etaSec)}`;
    const text = `${label}: ${e.done}/${e.total} (${pct}%) ${formatDuration(e.elapsedSec)}${eta} ${info}`.trim();
    // For the report builder: at once, even while this cell keeps the event loop busy.
    if (process.env[PROGRESS_STDERR_ENV_VAR] === '1') fs.writeSync(2, `${PROGRESS_LINE_PREFIX}${text}\n`);
    const html = `<div style="font-family:monospace"><progress max="${e.total}" value="${e.done}" style="width:16em"></progress> ${escapeHtml(text)}</div>`;
    const write = kernelDisplay();
    if (!write) return;
    write({ data: { 'text/html': html, 'text/plain': text }, metadata: { progress: true }, transient: { display_id: id } }, shown);
    shown = true;
  };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Shares a trained model with the site's live demos (see src/writeup/contract.ts): saved as
 * an F16 network file in outputs/<notebook>/, and sent as a display output that the report
 * builder turns into site/demo/models/<name>.f16.safetensors and a "Try it" note on the page.
 */
export async function shareModel(ctx: NotebookContext, name: SharedModelName, net: TrainableNet, config: TrainConfig, description: string): Promise<void> {
  if (!SHARED_MODEL_NAMES.includes(name)) throw new Error(`shareModel: the demos run ${SHARED_MODEL_NAMES.join(', ')}; got "${name}"`);
  const bytes = await encodeNetworkFile(net, config, { dtype: 'F16' });
  const file = path.join(ctx.outDir, `${name}.f16.safetensors`);
  writeFileAtomic(file, bytes);
  const metadata: SharedModelMetadata = { name, description };
  emit(
    {
      data: {
        [SHARED_MODEL_MIME]: Buffer.from(bytes).toString('base64'),
        'text/plain': `Shared with the site's live demos: ${description} (${(bytes.length / 1e3).toFixed(0)} kB, F16).`,
      },
      metadata: { sharedModel: metadata },
      transient: {},
    },
    `[model ${name}] ${description} -> ${file}`,
  );
}
