/**
 * Vega-Lite charts rendered to SVG (by the report builder for the site, and by showChart for
 * Jupyter front ends with no Vega-Lite renderer), so the site needs no JavaScript charting
 * library and no network. vega and vega-lite are ES modules only; this project compiles to
 * CommonJS, whose `import()` tsc would rewrite into `require()`, so they are loaded through a
 * real dynamic import that tsc cannot see.
 */
import * as path from 'path';
import sharp from 'sharp';
import { pathToFileURL } from 'url';

interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}

interface VegaModule {
  parse(spec: unknown): unknown;
  loader(options: { mode: 'file'; baseURL?: string }): unknown;
  View: new (runtime: unknown, options: { renderer: 'none'; loader: unknown }) => VegaView;
}

interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let modules: Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> | null = null;

function loadVega(): Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> {
  // Resolved to absolute file URLs: a bare specifier inside new Function has no module to
  // resolve from.
  const url = (name: string) => pathToFileURL(require.resolve(name)).href;
  modules ??= Promise.all([importEsm(url('vega')), importEsm(url('vega-lite'))]).then(([vega, vegaLite]) => ({
    vega: vega as VegaModule,
    vegaLite: vegaLite as VegaLiteModule,
  }));
  return modules;
}

/**
 * Renders a Vega-Lite spec to a standalone SVG string. Data must be inline (`data.values`) or a
 * local file path relative to `baseDir`: the loader is in file mode, so no URL is ever fetched.
 */
export async function vegaLiteToSvg(spec: unknown, baseDir = process.cwd()): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  let compiled: unknown;
  try {
    compiled = vegaLite.compile(spec).spec;
  } catch (err) {
    throw new Error(`Vega-Lite spec does not compile: ${(err as Error).message}. Fix the chart spec in the notebook.`, { cause: err });
  }
  const loader = vega.loader({ mode: 'file', baseURL: path.resolve(baseDir) + path.sep });
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Prefixes every id in an SVG (and the references to it) so that several charts inlined in one
 * page never share an id. Vega uses ids for clip paths and gradients.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  let out = svg.replace(/(\sid=")([^"]+)(")/g, (_m, a: string, id: string, b: string) => `${a}${prefix}${id}${b}`);
  out = out.replace(/url\(#([^)]+)\)/g, (m, id: string) => (ids.has(id) ? `url(#${prefix}${id})` : m));
  out = out.replace(/(href=")#([^"]+)(")/g, (m, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${prefix}${id}${b}` : m));
  return out;
}

/**
 * An SVG drawn as a PNG at `scale` times its size (crisp on high-density screens), with the size
 * it should be shown at in CSS pixels. For clients that drop or cannot draw SVG: nbconvert 6.5's
 * HTML export strips SVG elements, and LaTeX/PDF exports need a raster image.
 */
export async function svgToPng(svg: string, scale = 2): Promise<{ png: Buffer; width: number; height: number }> {
  const png = await sharp(Buffer.from(svg, 'utf8'), { density: 72 * scale })
    .png()
    .toBuffer();
  const { width, height } = await sharp(png).metadata();
  if (!width || !height) throw new Error('svgToPng: sharp drew an image without a size');
  return { png, width: Math.round(width / scale), height: Math.round(height / scale) };
}
