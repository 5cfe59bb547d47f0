import type { Rng } from '../random';
import { Vocabulary, words } from './tokenizer';

/**
 * Training captions for named images (the emoji set): a fresh caption is composed every time an
 * image is drawn, from its names and keywords, so the text encoder learns that "rocket",
 * "a rocket ship" and "a photo of a rocket launch" all mean the same picture.
 *
 * The frames ("a photo of a", "an oil painting of a", ...) are put around every kind of subject
 * at random, as CLIP's prompt templates are: the model learns that they say nothing about the
 * subject. They carry no style here: the training images are all emoji art.
 */
export const CAPTION_FRAMES: readonly string[] = [
  'a',
  'an',
  'the',
  'a photo of a',
  'a photo of the',
  'a picture of a',
  'an image of a',
  'a drawing of a',
  'an oil painting of a',
  'an oil painting of an',
  'a lithograph of a',
  'a painting of a',
  'an emoji of a',
  'an icon of a',
];

/** How often each part of a caption is used. */
export interface CaptionRecipe {
  /** The subject is a single keyword instead of a name (e.g. "ship" for the rocket). */
  pKeywordOnly: number;
  /** A keyword is added after the name (e.g. "rocket ship", "older man grandpa"). */
  pExtraKeyword: number;
  /** A frame goes in front. */
  pFrame: number;
  /** "in <style> style" is appended (the art style the image is drawn in). */
  pStyle: number;
}

export const DEFAULT_CAPTION_RECIPE: CaptionRecipe = { pKeywordOnly: 0.15, pExtraKeyword: 0.35, pFrame: 0.5, pStyle: 0.2 };

/** What a caption may say about one subject. */
export interface CaptionSubject {
  /** Names, the first being the main one, e.g. ["older man", "old man"]. */
  names: readonly string[];
  /** Keywords, e.g. ["grandpa", "elderly", ...]; may be empty. */
  keywords: readonly string[];
}

/** One random caption for a subject drawn in `style` (a word such as "noto"). */
export function composeCaption(subject: CaptionSubject, style: string, rng: Rng, recipe: CaptionRecipe = DEFAULT_CAPTION_RECIPE): string {
  if (subject.names.length === 0) throw new Error('composeCaption: a subject needs at least one name');
  const pick = <T>(list: readonly T[]): T => list[rng.int(list.length)];
  let text: string;
  if (subject.keywords.length > 0 && rng.uniform() < recipe.pKeywordOnly) {
    text = pick(subject.keywords);
  } else {
    text = pick(subject.names);
    if (subject.keywords.length > 0 && rng.uniform() < recipe.pExtraKeyword) text += ` ${pick(subject.keywords)}`;
  }
  if (rng.uniform() < recipe.pFrame) text = `${pick(CAPTION_FRAMES)} ${text}`;
  if (rng.uniform() < recipe.pStyle) text += ` in ${style} style`;
  return text;
}

/** The vocabulary of every caption composeCaption can make for these subjects and styles. */
export function captionVocabulary(subjects: readonly CaptionSubject[], styles: readonly string[], maxTokens: number): Vocabulary {
  const texts: string[] = [...CAPTION_FRAMES, 'in style', ...styles];
  for (const s of subjects) texts.push(...s.names, ...s.keywords);
  return Vocabulary.fromTexts(texts, maxTokens);
}

/** The most words a composed caption can have for these subjects (to size the token window). */
export function longestCaption(subjects: readonly CaptionSubject[]): number {
  const frame = Math.max(...CAPTION_FRAMES.map((f) => words(f).length));
  let longest = 0;
  for (const s of subjects) {
    const name = Math.max(...s.names.map((n) => words(n).length));
    const keyword = Math.max(0, ...s.keywords.map((k) => words(k).length));
    longest = Math.max(longest, name + keyword);
  }
  return frame + longest + 3;
}
