import * as fs from 'fs';
import { tf } from '../../lib/backend/tf';
import { decodePng } from '../../lib/display/png';
import { writeupFile } from '../files';
import { CAMPANILE, DataPhoto, OWN_PHOTO_1, OWN_PHOTO_2, photoPixels } from './photos';
import { checkSize, Pixels, toModelInput } from '../../lib/images/pixels';
import { SKETCH_HOUSE, SKETCH_TSHIRT, Sketch } from './sketches';
import { rasteriseStrokes } from '../../lib/images/strokes';
import { WEB_IMAGE_CHAR, typesetGlyph } from './web-image';

/**
 * Part A's input images by name, each with its inpainting mask, in two sets: a gray one for the
 * digits model (photos from Fashion-MNIST at 28 px, a typeset "3", white strokes on black) and a
 * colour one for RGB models (photo crops and clip art from src/writeup/inputs/assets/, see its
 * README for sources and licences, and dark strokes on white paper). A model with 3 channels
 * gets the colour set.
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
const sketch =
  (s: Sketch) =>
  (size: number): Pixels =>
    rasteriseStrokes(s.strokes, size, s.penWidth);

/** A committed colour image (src/writeup/inputs/assets/NAME), RGB in [0, 1]. */
export function assetPixels(name: string): Pixels {
  const file = writeupFile('inputs', 'assets', name);
  if (!fs.existsSync(file))
    throw new Error(`Part A image ${file} is missing: restore src/writeup/inputs/assets/ from git (scripts/make-part-a-images.js makes it)`);
  const png = decodePng(fs.readFileSync(file));
  if (png.channels !== 3) throw new Error(`${file} must be an RGB PNG, it has ${png.channels} channel(s)`);
  return { height: png.height, width: png.width, channels: 3, data: Float32Array.from(png.data, (v) => v / 255) };
}

/** Strokes drawn in dark ink on white paper (the colour set's background, like the emoji art). */
const inkSketch =
  (s: Sketch) =>
  (size: number): Pixels => {
    const im = rasteriseStrokes(s.strokes, size, s.penWidth);
    return { ...im, data: im.data.map((v) => 1 - 0.9 * v) };
  };

const COLOUR_ENTRIES: Record<PartAImageName, Entry> = {
  campanile: {
    title: 'test image (rocket)',
    description: 'the Campanile stand-in: a photo of a Falcon 9 rocket on its launch pad (scikit-image sample, public domain); mask = its top',
    draw: () => assetPixels('photo-rocket.png'),
    mask: { x0: 0.3, y0: 0, x1: 0.7, y1: 0.45 },
  },
  'own-1': {
    title: 'own photo (cat)',
    description: 'Chelsea the cat (scikit-image sample, CC0); mask = eyes and nose',
    draw: () => assetPixels('photo-cat.png'),
    mask: { x0: 0.15, y0: 0.35, x1: 0.9, y1: 0.8 },
  },
  'own-2': {
    title: 'own photo (coffee)',
    description: 'a cup of coffee (scikit-image sample, CC0); mask = the cup',
    draw: () => assetPixels('photo-coffee.png'),
    mask: { x0: 0.15, y0: 0, x1: 0.85, y1: 0.6 },
  },
  web: {
    title: 'web image (clip-art sunflower)',
    description: 'a sunflower in the EmojiOne 2 clip-art style (CC BY 4.0, Emoji One), a style the model never saw; mask = its lower half',
    draw: () => assetPixels('web-sunflower.png'),
    mask: { x0: 0, y0: 0.5, x1: 1, y1: 1 },
  },
  'sketch-1': {
    title: SKETCH_TSHIRT.title,
    description: 'an outline of a t-shirt stored as strokes, dark ink on white; mask = the body below the sleeves',
    draw: inkSketch(SKETCH_TSHIRT),
    mask: { x0: 0.2, y0: 0.45, x1: 0.8, y1: 1 },
  },
  'sketch-2': {
    title: SKETCH_HOUSE.title,
    description: 'a house (box, roof, door) stored as strokes, dark ink on white; mask = the roof',
    draw: inkSketch(SKETCH_HOUSE),
    mask: { x0: 0, y0: 0, x1: 1, y1: 0.45 },
  },
};

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

function entry(name: string, channels = 1): Entry {
  const e = ((channels === 3 ? COLOUR_ENTRIES : ENTRIES) as Record<string, Entry | undefined>)[name];
  if (!e) throw new Error(`Unknown Part A image "${name}": use one of ${PART_A_IMAGES.join(', ')}`);
  return e;
}

/** A short label for figures, e.g. "test image (bag)"; `channels` picks the set (3 = colour). */
export function partAImageTitle(name: PartAImageName, channels = 1): string {
  return entry(name, channels).title;
}

/** Where the image comes from and what its mask covers. */
export function partAImageDescription(name: PartAImageName, channels = 1): string {
  return entry(name, channels).description;
}

/** The image as a model input: [1, size, size, channels] in [-1, 1] (gray copied to RGB if needed). */
export function partAImage(name: PartAImageName, size: number, channels: number): tf.Tensor4D {
  checkSize(size, channels);
  return toModelInput(entry(name, channels).draw(size), size, channels);
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
export function partAMask(name: PartAImageName, size: number, channels = 1): tf.Tensor2D {
  checkSize(size, channels);
  return tf.tensor2d(rectMask(entry(name, channels).mask, size), [size, size]);
}

/** Masks of several images as one batch [B, size, size, 1], for inpaint() on a batch. */
export function partAMasks(names: readonly PartAImageName[], size: number, channels = 1): tf.Tensor4D {
  checkSize(size, channels);
  const data = new Float32Array(names.length * size * size);
  names.forEach((n, i) => data.set(rectMask(entry(n, channels).mask, size), i * size * size));
  return tf.tensor4d(data, [names.length, size, size, 1]);
}
