import { tf } from '../backend/tf';
import { CAMPANILE, DataPhoto, OWN_PHOTO_1, OWN_PHOTO_2, photoPixels } from './photos';
import { Pixels, toModelInput } from './pixels';
import { SKETCH_HOUSE, SKETCH_TSHIRT, Sketch } from './sketches';
import { rasteriseStrokes } from './strokes';
import { WEB_IMAGE_CHAR, typesetGlyph } from './web-image';

/**
 * Part A's input images by name, each with its inpainting mask. The photos come from the data
 * (28 px); the web image and the sketches are drawn at the requested size.
 */
export const PART_A_IMAGES = ['campanile', 'own-1', 'own-2', 'web', 'sketch-1', 'sketch-2'] as const;
export type PartAImageName = (typeof PART_A_IMAGES)[number];

/** A rectangle in unit coordinates (x to the right, y down, 0..1): the region to fill. */
export interface MaskRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface Entry {
  title: string;
  description: string;
  draw: (size: number) => Pixels;
  mask: MaskRect;
}

const photo = (p: DataPhoto) => (): Pixels => ({ height: 28, width: 28, channels: 1, data: photoPixels(p) });
const sketch = (s: Sketch) => (size: number): Pixels => rasteriseStrokes(s.strokes, size, s.penWidth);

const ENTRIES: Record<PartAImageName, Entry> = {
  campanile: {
    title: 'test image (bag)',
    description: `the Campanile stand-in: ${CAMPANILE.source}; mask = its top (the handle)`,
    draw: photo(CAMPANILE),
    mask: { x0: 0.1, y0: 0, x1: 0.9, y1: 0.4 },
  },
  'own-1': {
    title: 'own photo (pullover)',
    description: `${OWN_PHOTO_1.source}; mask = the printed logo on the chest`,
    draw: photo(OWN_PHOTO_1),
    mask: { x0: 0.25, y0: 0.2, x1: 0.75, y1: 0.55 },
  },
  'own-2': {
    title: 'own photo (sneaker)',
    description: `${OWN_PHOTO_2.source}; mask = the front half`,
    draw: photo(OWN_PHOTO_2),
    mask: { x0: 0, y0: 0.2, x1: 0.5, y1: 0.85 },
  },
  web: {
    title: `web image (typeset ${WEB_IMAGE_CHAR})`,
    description: `a "${WEB_IMAGE_CHAR}" typeset in the project's 5x7 bitmap font; mask = its lower half`,
    draw: (size) => typesetGlyph(WEB_IMAGE_CHAR, size),
    mask: { x0: 0, y0: 0.5, x1: 1, y1: 1 },
  },
  'sketch-1': {
    title: SKETCH_TSHIRT.title,
    description: 'an outline of a t-shirt stored as strokes; mask = the body below the sleeves',
    draw: sketch(SKETCH_TSHIRT),
    mask: { x0: 0.2, y0: 0.45, x1: 0.8, y1: 1 },
  },
  'sketch-2': {
    title: SKETCH_HOUSE.title,
    description: 'a house (box, roof, door) stored as strokes; mask = the roof',
    draw: sketch(SKETCH_HOUSE),
    mask: { x0: 0, y0: 0, x1: 1, y1: 0.45 },
  },
};

function entry(name: string): Entry {
  const e = (ENTRIES as Record<string, Entry | undefined>)[name];
  if (!e) throw new Error(`Unknown Part A image "${name}": use one of ${PART_A_IMAGES.join(', ')}`);
  return e;
}

export function checkSize(size: number, channels: number): void {
  if (!Number.isInteger(size) || size < 1) throw new Error(`Image size must be a positive integer (the model's imageSize), got ${size}`);
  if (channels !== 1 && channels !== 3) throw new Error(`Channels must be 1 (gray) or 3 (RGB) (the model's channels), got ${channels}`);
}

/** A short label for figures, e.g. "test image (bag)". */
export function partAImageTitle(name: PartAImageName): string {
  return entry(name).title;
}

/** Where the image comes from and what its mask covers. */
export function partAImageDescription(name: PartAImageName): string {
  return entry(name).description;
}

/** The image as a model input: [1, size, size, channels] in [-1, 1] (gray copied to RGB if needed). */
export function partAImage(name: PartAImageName, size: number, channels: number): tf.Tensor4D {
  checkSize(size, channels);
  return toModelInput(entry(name).draw(size), size, channels);
}

/** Several images as one batch [B, size, size, channels]. */
export function partAImages(names: readonly PartAImageName[], size: number, channels: number): tf.Tensor4D {
  if (names.length === 0) throw new Error('partAImages: give at least one image name');
  const parts = names.map((n) => partAImage(n, size, channels));
  const out = tf.concat(parts, 0);
  tf.dispose(parts);
  return out;
}

/** A rectangle as a size x size mask: 1 where a pixel's centre lies inside (new content), 0 elsewhere. */
export function rectMask(rect: MaskRect, size: number): Float32Array {
  const m = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const cy = (y + 0.5) / size;
    if (cy < rect.y0 || cy >= rect.y1) continue;
    for (let x = 0; x < size; x++) {
      const cx = (x + 0.5) / size;
      if (cx >= rect.x0 && cx < rect.x1) m[y * size + x] = 1;
    }
  }
  return m;
}

/** The image's inpainting mask, [size, size]: 1 = fill with new content (SPEC 1.7.2), 0 = keep. */
export function partAMask(name: PartAImageName, size: number): tf.Tensor2D {
  checkSize(size, 1);
  return tf.tensor2d(rectMask(entry(name).mask, size), [size, size]);
}

/** Masks of several images as one batch [B, size, size, 1], for inpaint() on a batch. */
export function partAMasks(names: readonly PartAImageName[], size: number): tf.Tensor4D {
  checkSize(size, 1);
  const data = new Float32Array(names.length * size * size);
  names.forEach((n, i) => data.set(rectMask(entry(n).mask, size), i * size * size));
  return tf.tensor4d(data, [names.length, size, size, 1]);
}
