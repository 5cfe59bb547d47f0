/**
 * Colour emoji art with names, the training data of Part A's built-in text-to-image model.
 *
 * Every style comes from an npm package with an open licence (devDependencies: needed to retrain,
 * never to sample). The metadata (names, short names, category, subcategory) is emoji-datasource's
 * emoji.json, the keywords are emojilib's. Images are rendered on a white background at 64x64 RGB
 * and cached as one binary file, so a second load takes a second instead of a minute.
 *
 * Styles are split in two groups: the generator learns from GENERATOR_STYLES; the fidelity judge
 * learns from JUDGE_STYLES, which the generator never sees, so the judge cannot score a sample
 * well just because it copies a training image pixel for pixel.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic';
import { dataCachePath } from '../io/outputs';

export type EmojiStyle = 'noto' | 'twemoji' | 'fluent' | 'openmoji' | 'emojione' | 'noto-v1';

export interface EmojiStyleSource {
  /** The npm package the images come from. */
  package: string;
  title: string;
  author: string;
  licence: string;
  /** PNG files of emoji-datasource, or an Iconify JSON set of SVG icons. */
  format: 'datasource-png' | 'iconify-svg';
}

export const EMOJI_STYLE_SOURCES: Record<EmojiStyle, EmojiStyleSource> = {
  noto: { package: 'emoji-datasource-google', title: 'Noto Color Emoji', author: 'Google', licence: 'Apache-2.0', format: 'datasource-png' },
  twemoji: {
    package: 'emoji-datasource-twitter',
    title: 'Twemoji',
    author: 'Twitter, Inc and other contributors',
    licence: 'CC-BY-4.0',
    format: 'datasource-png',
  },
  fluent: { package: '@iconify-json/fluent-emoji-flat', title: 'Fluent Emoji (flat)', author: 'Microsoft Corporation', licence: 'MIT', format: 'iconify-svg' },
  openmoji: { package: '@iconify-json/openmoji', title: 'OpenMoji', author: 'OpenMoji (HfG Schwäbisch Gmünd)', licence: 'CC-BY-SA-4.0', format: 'iconify-svg' },
  emojione: { package: '@iconify-json/emojione', title: 'EmojiOne 2', author: 'Emoji One', licence: 'CC-BY-4.0', format: 'iconify-svg' },
  'noto-v1': { package: '@iconify-json/noto-v1', title: 'Noto Emoji (2016 design)', author: 'Google', licence: 'Apache-2.0', format: 'iconify-svg' },
};

/** The styles the text-to-image model is trained on. */
export const GENERATOR_STYLES: readonly EmojiStyle[] = ['noto', 'twemoji', 'fluent'];
/** Styles only the fidelity judge learns from (held out from the generator). */
export const JUDGE_STYLES: readonly EmojiStyle[] = ['openmoji', 'emojione', 'noto-v1'];

/** The metadata package (emoji.json) and the keyword package. */
const METADATA_PACKAGE = 'emoji-datasource-google';
const KEYWORD_PACKAGE = 'emojilib';

/** One emoji (a Unicode code point sequence), without skin-tone variants. */
export interface EmojiEntry {
  /** Code points in hex, e.g. "1F680" (rocket). */
  unified: string;
  /** The Unicode name in lower case, e.g. "rocket", "older man". */
  name: string;
  /** emoji-datasource's short names with spaces, e.g. ["rocket"], ["older man"]. */
  shortNames: string[];
  /** emojilib's keywords (may be empty), e.g. ["launch", "ship", "outer space", ...]. */
  keywords: string[];
  category: string;
  subcategory: string;
}

/** Rendered emoji images of one or more styles. */
export interface EmojiImages {
  entries: EmojiEntry[];
  styles: EmojiStyle[];
  /** Height = width of every image. */
  size: number;
  count: number;
  /** count x size x size x 3 bytes, RGB on white, row-major. */
  pixels: Uint8Array;
  /** Per image: its index into `entries`. */
  entry: Uint16Array;
  /** Per image: its index into `styles`. */
  style: Uint8Array;
  /** Package versions the images were read from. */
  versions: Record<string, string>;
}

export interface LoadEmojiOptions {
  styles?: readonly EmojiStyle[];
  /** Rendered size, default 64 (the size of emoji-datasource's PNGs). */
  size?: number;
  /** Folder of the rendered cache; default DIFFUSION_DATA_CACHE/emoji or ~/.cache/diffusion-ts/emoji. */
  cacheDir?: string;
  /** Called with (done, total) while rendering, the first time only. */
  onProgress?: (done: number, total: number) => void;
}

export function defaultEmojiCacheDir(): string {
  return dataCachePath('emoji');
}

/** A package's folder, or a clear error saying how to get it. */
function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(
      `The emoji data needs the npm package "${name}", which is not installed. It is a devDependency of this project: ` +
        'run `npm ci` (or `npm install`) without --omit=dev. Only retraining and judging need it; the shipped weights do not.',
    );
  }
}

function packageVersion(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Lower case, words separated by single spaces (underscores, hyphens and punctuation become spaces). */
export function normaliseName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

interface DatasourceRecord {
  name: string | null;
  unified: string;
  non_qualified: string | null;
  image: string;
  short_names: string[];
  category: string;
  subcategory: string;
  sort_order: number;
  has_img_google: boolean;
  has_img_twitter: boolean;
}

function codePointsToString(unified: string): string {
  return String.fromCodePoint(...unified.split('-').map((h) => parseInt(h, 16)));
}

/** Every emoji of emoji-datasource with its names and keywords (the "Component" category left out). */
export function loadEmojiEntries(): { entries: EmojiEntry[]; records: DatasourceRecord[] } {
  const records = (JSON.parse(fs.readFileSync(path.join(packageDir(METADATA_PACKAGE), 'emoji.json'), 'utf8')) as DatasourceRecord[])
    .filter((r) => r.category !== 'Component')
    .sort((a, b) => a.sort_order - b.sort_order);
  const keywordFile = path.join(packageDir(KEYWORD_PACKAGE), 'dist', 'emoji-en-US.json');
  const keywordMap = JSON.parse(fs.readFileSync(keywordFile, 'utf8')) as Record<string, string[]>;
  const keywordsOf = (r: DatasourceRecord): string[] => {
    const keys = [codePointsToString(r.unified), ...(r.non_qualified ? [codePointsToString(r.non_qualified)] : [])];
    keys.push(keys[0].replace(/\uFE0F/g, ''));
    for (const k of keys) if (keywordMap[k]) return keywordMap[k];
    return [];
  };
  const entries = records.map((r): EmojiEntry => {
    const name = normaliseName(r.name ?? r.short_names[0]);
    const shortNames = [...new Set(r.short_names.map(normaliseName))];
    const keywords = [...new Set(keywordsOf(r).map(normaliseName))].filter((k) => k.length > 0 && k !== name && !shortNames.includes(k));
    return { unified: r.unified, name, shortNames, keywords, category: r.category, subcategory: r.subcategory };
  });
  return { entries, records };
}

type SharpFactory = (
  input: Buffer,
  opts?: { density?: number },
) => {
  flatten(o: { background: string }): ReturnType<SharpFactory>;
  resize(w: number, h: number, o?: { fit?: string; kernel?: string; background?: string }): ReturnType<SharpFactory>;
  removeAlpha(): ReturnType<SharpFactory>;
  raw(): ReturnType<SharpFactory>;
  toBuffer(): Promise<Buffer>;
};

function loadSharp(): SharpFactory {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('sharp') as SharpFactory;
  } catch {
    throw new Error('Rendering the emoji data needs the npm package "sharp" (a devDependency): run `npm ci` without --omit=dev.');
  }
}

/** One source image of a style: the entry it shows and how to get its bytes. */
interface SourceImage {
  entry: number;
  kind: 'png' | 'svg';
  bytes: () => Buffer;
}

interface IconifySet {
  icons: Record<string, { body: string; width?: number; height?: number; left?: number; top?: number }>;
  aliases?: Record<string, { parent: string }>;
  width?: number;
  height?: number;
}

/** Which images a style has, matched to entries by code points (Iconify's chars.json) or else by name. */
function sourceImages(style: EmojiStyle, entries: EmojiEntry[], records: DatasourceRecord[]): SourceImage[] {
  const src = EMOJI_STYLE_SOURCES[style];
  const dir = packageDir(src.package);
  if (src.format === 'datasource-png') {
    const folder = path.join(dir, 'img', style === 'noto' ? 'google' : 'twitter', '64');
    const flag = style === 'noto' ? 'has_img_google' : 'has_img_twitter';
    const out: SourceImage[] = [];
    records.forEach((r, i) => {
      const file = path.join(folder, r.image);
      if (r[flag] && fs.existsSync(file)) out.push({ entry: i, kind: 'png', bytes: () => fs.readFileSync(file) });
    });
    return out;
  }
  const set = JSON.parse(fs.readFileSync(path.join(dir, 'icons.json'), 'utf8')) as IconifySet;
  const charsFile = path.join(dir, 'chars.json');
  const chars = fs.existsSync(charsFile) ? (JSON.parse(fs.readFileSync(charsFile, 'utf8')) as Record<string, string>) : {};
  const byCodes = new Map<string, number>();
  const strip = (s: string) => s.toLowerCase().replace(/-fe0f/g, '');
  records.forEach((r, i) => {
    byCodes.set(strip(r.unified), i);
    if (r.non_qualified) byCodes.set(strip(r.non_qualified), i);
  });
  const byName = new Map<string, number>();
  entries.forEach((e, i) => {
    for (const n of [e.name, ...e.shortNames]) if (!byName.has(n)) byName.set(n, i);
  });
  const iconFor = new Map<number, string>();
  for (const [codes, icon] of Object.entries(chars)) {
    const i = byCodes.get(strip(codes));
    if (i !== undefined && !iconFor.has(i)) iconFor.set(i, icon);
  }
  for (const icon of Object.keys(set.icons)) {
    const i = byName.get(normaliseName(icon));
    if (i !== undefined && !iconFor.has(i)) iconFor.set(i, icon);
  }
  const svgOf = (icon: string): Buffer => {
    let name = icon;
    for (let hops = 0; !set.icons[name] && set.aliases?.[name] && hops < 8; hops++) name = set.aliases[name].parent;
    const ic = set.icons[name];
    const w = ic.width ?? set.width ?? 16;
    const h = ic.height ?? set.height ?? 16;
    return Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="${ic.left ?? 0} ${ic.top ?? 0} ${w} ${h}">${ic.body}</svg>`,
    );
  };
  return [...iconFor.entries()].sort((a, b) => a[0] - b[0]).map(([entry, icon]) => ({ entry, kind: 'svg', bytes: () => svgOf(icon) }));
}

/** Renders one image at size x size RGB on white (SVGs rasterised large, then reduced). */
async function render(sharp: SharpFactory, img: SourceImage, size: number): Promise<Buffer> {
  const base = img.kind === 'svg' ? sharp(img.bytes(), { density: 600 }) : sharp(img.bytes());
  const out = await base
    .resize(size, size, { fit: 'contain', kernel: 'lanczos3', background: '#ffffff' })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer();
  if (out.length !== size * size * 3) throw new Error(`emoji render: expected ${size * size * 3} bytes, got ${out.length}`);
  return out;
}

/**
 * Loads (rendering on first use, then from the cache) the images of the given styles. The cache
 * key covers the styles, the size and every package version, so an upgrade renders again.
 */
export async function loadEmojiImages(opts: LoadEmojiOptions = {}): Promise<EmojiImages> {
  const styles = [...(opts.styles ?? GENERATOR_STYLES)];
  const size = opts.size ?? 64;
  if (styles.length === 0) throw new Error('loadEmojiImages: give at least one style');
  for (const s of styles) {
    if (!(s in EMOJI_STYLE_SOURCES)) throw new Error(`Unknown emoji style "${s}": use one of ${Object.keys(EMOJI_STYLE_SOURCES).join(', ')}`);
  }
  if (!Number.isInteger(size) || size < 8 || size > 256) throw new Error(`loadEmojiImages: size must be an integer in 8..256, got ${size}`);
  const packages = [METADATA_PACKAGE, KEYWORD_PACKAGE, ...styles.map((s) => EMOJI_STYLE_SOURCES[s].package)];
  const versions: Record<string, string> = {};
  for (const p of packages) versions[p] = packageVersion(p);
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify({ styles, size, versions, format: 1 }))
    .digest('hex')
    .slice(0, 16);
  const dir = opts.cacheDir ?? defaultEmojiCacheDir();
  const binFile = path.join(dir, `emoji-${size}-${key}.bin`);
  const metaFile = path.join(dir, `emoji-${size}-${key}.json`);
  const { entries, records } = loadEmojiEntries();

  if (fs.existsSync(binFile) && fs.existsSync(metaFile)) {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { count: number; entry: number[]; style: number[] };
    const pixels = new Uint8Array(fs.readFileSync(binFile));
    if (pixels.length === meta.count * size * size * 3) {
      return { entries, styles, size, count: meta.count, pixels, entry: Uint16Array.from(meta.entry), style: Uint8Array.from(meta.style), versions };
    }
  }

  const sharp = loadSharp();
  const jobs = styles.flatMap((style, s) => sourceImages(style, entries, records).map((img) => ({ img, s })));
  const pixels = new Uint8Array(jobs.length * size * size * 3);
  const entry = new Uint16Array(jobs.length);
  const style = new Uint8Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    pixels.set(await render(sharp, jobs[i].img, size), i * size * size * 3);
    entry[i] = jobs[i].img.entry;
    style[i] = jobs[i].s;
    if (opts.onProgress && (i % 100 === 99 || i === jobs.length - 1)) opts.onProgress(i + 1, jobs.length);
  }
  // The metadata last: a cache with a .bin but no .json is ignored and rendered again.
  writeFileAtomic(binFile, pixels);
  writeFileAtomic(metaFile, JSON.stringify({ styles, size, versions, count: jobs.length, entry: [...entry], style: [...style] }) + '\n');
  return { entries, styles, size, count: jobs.length, pixels, entry, style, versions };
}

/** The images of `data` whose indices are given, as a new EmojiImages. */
export function selectEmojiImages(data: EmojiImages, indices: ArrayLike<number>): EmojiImages {
  const px = data.size * data.size * 3;
  const pixels = new Uint8Array(indices.length * px);
  const entry = new Uint16Array(indices.length);
  const style = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    pixels.set(data.pixels.subarray(i * px, (i + 1) * px), k * px);
    entry[k] = data.entry[i];
    style[k] = data.style[i];
  }
  return { ...data, count: indices.length, pixels, entry, style };
}

/** Reduces every image by an integer factor (box filter: the mean of each factor x factor block), as floats in [0, 1]. */
export function downsampleToFloat(data: EmojiImages, factor: number): Float32Array {
  if (!Number.isInteger(factor) || factor < 1 || data.size % factor !== 0) {
    throw new Error(`downsampleToFloat: factor must be a whole divisor of ${data.size}, got ${factor}`);
  }
  const s = data.size;
  const o = s / factor;
  const out = new Float32Array(data.count * o * o * 3);
  const norm = 1 / (factor * factor * 255);
  for (let n = 0; n < data.count; n++) {
    const src = n * s * s * 3;
    const dst = n * o * o * 3;
    for (let y = 0; y < o; y++) {
      for (let x = 0; x < o; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let dy = 0; dy < factor; dy++) {
            for (let dx = 0; dx < factor; dx++) sum += data.pixels[src + ((y * factor + dy) * s + x * factor + dx) * 3 + c];
          }
          out[dst + (y * o + x) * 3 + c] = sum * norm;
        }
      }
    }
  }
  return out;
}
