/**
 * Figure layouts: a labelled grid of sample images, and side-by-side / stacked comparisons.
 */
import { blankImage, blit, checkFloatImages, toRgb8, upscaleNearest, type FloatImages, type Rgb, type RgbImage } from './image';
import { drawText, GLYPH_HEIGHT, measureText } from './font';

export interface GridOptions {
  /** Images per row. Default ceil(sqrt(count)). */
  cols?: number;
  /** Value range mapped to black..white. Default [0, 1]. */
  range?: [number, number];
  /** Integer nearest-neighbour upscale. Default: the smallest making a cell's longer side at least 56 px. */
  scale?: number;
  /** Blank pixels around the figure and between cells. Default 4. */
  padding?: number;
  /** Default white. */
  background?: Rgb;
  /** Drawn centred on top at twice the label size. */
  title?: string;
  /** One label per row, drawn left of the row (right-aligned). */
  rowLabels?: string[];
  /** One header per column, drawn above the first row. */
  colLabels?: string[];
  /** One caption per image, drawn under its cell. */
  cellLabels?: string[];
  /** Integer size of the label font (5x7 pixels at 1). Default 1. */
  textScale?: number;
}

/** The smallest cell size the default scale aims for: MNIST's 28 px doubled. */
const MIN_CELL_PX = 56;
/** Space between a label and the cells it belongs to. */
const LABEL_GAP = 3;

function widest(labels: string[] | undefined, scale: number): number {
  return (labels ?? []).reduce((w, label) => Math.max(w, measureText(label, scale).width), 0);
}

function checkLabels(labels: string[] | undefined, limit: number, what: string, unit: string): void {
  if (labels && labels.length > limit) {
    throw new Error(`imageGrid: ${labels.length} ${what} given but the grid has only ${limit} ${unit}; pass at most ${limit} or change cols`);
  }
}

function checkNonNegativeInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`imageGrid: ${what} must be a non-negative integer, got ${value}`);
}

/** Lays a batch of images out in rows of `cols`, with optional title, headers, row labels and captions. */
export function imageGrid(images: FloatImages, opts: GridOptions = {}): RgbImage {
  checkFloatImages(images);
  const { count, width, height } = images;
  if (count === 0) throw new Error('imageGrid needs at least one image, got an empty batch');
  const cols = opts.cols ?? Math.ceil(Math.sqrt(count));
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`imageGrid: cols must be a positive integer, got ${cols}`);
  const rows = Math.ceil(count / cols);
  const scale = opts.scale ?? Math.max(1, Math.ceil(MIN_CELL_PX / Math.max(width, height)));
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`imageGrid: scale must be a positive integer, got ${scale}`);
  const padding = opts.padding ?? 4;
  checkNonNegativeInt(padding, 'padding');
  const textScale = opts.textScale ?? 1;
  if (!Number.isInteger(textScale) || textScale < 1) throw new Error(`imageGrid: textScale must be a positive integer, got ${textScale}`);
  const background = opts.background ?? [255, 255, 255];
  checkLabels(opts.rowLabels, rows, 'rowLabels', 'rows');
  checkLabels(opts.colLabels, cols, 'colLabels', 'columns');
  checkLabels(opts.cellLabels, count, 'cellLabels', 'images');

  const textHeight = GLYPH_HEIGHT * textScale;
  const titleScale = 2 * textScale;
  const cellWidth = width * scale;
  const cellHeight = height * scale;
  // Columns widen to fit their header and captions, so text never runs into the next column.
  const colWidth = Math.max(cellWidth, widest(opts.colLabels, textScale), widest(opts.cellLabels, textScale));
  const rowLabelWidth = widest(opts.rowLabels, textScale);
  const rowHeight = cellHeight + (opts.cellLabels ? LABEL_GAP + textHeight : 0);

  let top = padding;
  const titleY = top;
  if (opts.title) top += GLYPH_HEIGHT * titleScale + padding;
  const headerY = top;
  if (opts.colLabels) top += textHeight + LABEL_GAP;
  const gridLeft = padding + (rowLabelWidth > 0 ? rowLabelWidth + padding : 0);
  const gridWidth = cols * colWidth + (cols - 1) * padding;
  const titleWidth = opts.title ? measureText(opts.title, titleScale).width : 0;
  const figureWidth = Math.max(gridLeft + gridWidth + padding, titleWidth + 2 * padding);
  const figureHeight = top + rows * rowHeight + (rows - 1) * padding + padding;

  const figure = blankImage(figureWidth, figureHeight, background);
  if (opts.title) drawText(figure, opts.title, Math.floor((figureWidth - titleWidth) / 2), titleY, { scale: titleScale });

  const colX = (c: number): number => gridLeft + c * (colWidth + padding);
  const rowY = (r: number): number => top + r * (rowHeight + padding);
  const centred = (text: string, c: number): number => colX(c) + Math.floor((colWidth - measureText(text, textScale).width) / 2);

  (opts.colLabels ?? []).forEach((label, c) => drawText(figure, label, centred(label, c), headerY, { scale: textScale }));
  (opts.rowLabels ?? []).forEach((label, r) => {
    const x = padding + rowLabelWidth - measureText(label, textScale).width;
    drawText(figure, label, x, rowY(r) + Math.floor((cellHeight - textHeight) / 2), { scale: textScale });
  });
  for (let i = 0; i < count; i++) {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const cell = upscaleNearest(toRgb8(images, i, opts.range), scale);
    blit(figure, cell, colX(c) + Math.floor((colWidth - cellWidth) / 2), rowY(r));
    const caption = opts.cellLabels?.[i];
    if (caption) drawText(figure, caption, centred(caption, c), rowY(r) + cellHeight + LABEL_GAP, { scale: textScale });
  }
  figure.description = describeGrid(images, rows, cols, opts);
  return figure;
}

/** Longest label list spelled out in a description; longer ones end in "and N more". */
const DESCRIBED_LABELS = 12;

function listLabels(labels: string[]): string {
  const shown = labels.slice(0, DESCRIBED_LABELS).join(', ');
  return labels.length > DESCRIBED_LABELS ? `${shown} and ${labels.length - DESCRIBED_LABELS} more` : shown;
}

/** The grid in words: its title, its shape and its labels (the text a screen reader gets). */
function describeGrid(images: FloatImages, rows: number, cols: number, opts: GridOptions): string {
  const kind = images.channels === 1 ? 'greyscale' : 'colour';
  const size = `${images.width}x${images.height} pixels`;
  const shape =
    images.count === 1 ? `A ${kind} image of ${size}` : `${images.count} ${kind} images of ${size} in ${rows} row${rows === 1 ? '' : 's'} of ${cols}`;
  const parts = [opts.title ? `${opts.title}: ${shape[0].toLowerCase()}${shape.slice(1)}` : shape];
  if (opts.rowLabels?.length) parts.push(`rows: ${listLabels(opts.rowLabels)}`);
  if (opts.colLabels?.length) parts.push(`columns: ${listLabels(opts.colLabels)}`);
  if (opts.cellLabels?.length) parts.push(`captions: ${listLabels(opts.cellLabels)}`);
  return parts.join('; ') + '.';
}

/** The descriptions of several pictures shown together, in reading order. */
function describeAll(images: RgbImage[], arrangement: string): string | undefined {
  const known = images.map((img) => img.description).filter((d): d is string => !!d);
  if (known.length === 0) return undefined;
  if (images.length === 1) return known[0];
  return `${images.length} pictures ${arrangement}. ` + images.map((img, i) => `(${i + 1}) ${img.description ?? 'unlabelled'}`).join(' ');
}

function checkConcatInputs(images: RgbImage[], gap: number, what: string): void {
  if (images.length === 0) throw new Error(`${what} needs at least one image`);
  if (!Number.isInteger(gap) || gap < 0) throw new Error(`${what}: gap must be a non-negative integer, got ${gap}`);
}

/** Places images side by side, left to right, `gap` pixels apart; shorter ones are centred vertically. */
export function hconcat(images: RgbImage[], gap = 8, background: Rgb = [255, 255, 255]): RgbImage {
  checkConcatInputs(images, gap, 'hconcat');
  const width = images.reduce((w, img) => w + img.width, 0) + gap * (images.length - 1);
  const height = Math.max(...images.map((img) => img.height));
  const out = blankImage(width, height, background);
  let x = 0;
  for (const img of images) {
    blit(out, img, x, Math.floor((height - img.height) / 2));
    x += img.width + gap;
  }
  const description = describeAll(images, 'side by side, left to right');
  if (description) out.description = description;
  return out;
}

/** Stacks images top to bottom, `gap` pixels apart; narrower ones are centred horizontally. */
export function vconcat(images: RgbImage[], gap = 8, background: Rgb = [255, 255, 255]): RgbImage {
  checkConcatInputs(images, gap, 'vconcat');
  const width = Math.max(...images.map((img) => img.width));
  const height = images.reduce((h, img) => h + img.height, 0) + gap * (images.length - 1);
  const out = blankImage(width, height, background);
  let y = 0;
  for (const img of images) {
    blit(out, img, Math.floor((width - img.width) / 2), y);
    y += img.height + gap;
  }
  const description = describeAll(images, 'stacked, top to bottom');
  if (description) out.description = description;
  return out;
}
