import { AnagramView } from '../../lib/pipelines/anagram';
import { DIGIT_PROMPTS, GENERIC_PROMPT, UNCONDITIONAL_PROMPT } from '../../lib/pretrained/builtin-spec';
import type { DigitAnagram } from '../judge/digit-anagrams';
import { PromptDictionary, PromptEncoder } from '../../lib/pretrained/model';
import type { PartAModelKind } from '../part-a-models';
import { PartAImageName } from './images';

export interface AnagramPrompts {
  /** Seen upright. */
  upright: string;
  /** Seen under the view. */
  viewed: string;
  view: AnagramView;
}

export interface HybridPrompts {
  /** Seen from far: the low frequencies. */
  far: string;
  /** Seen up close: the high frequencies. */
  near: string;
}

/** The prompts Part A's notebooks use, for one model. */
export interface PartAPrompts {
  /** SPEC 0: three prompts sampled at several numbers of inference steps. */
  sampling: [string, string, string];
  /** SPEC 1.3-1.5 and 1.7: "a high quality photo". */
  generic: string;
  /** The unconditional embedding for CFG: "". */
  unconditional: string;
  /** SPEC 1.7.3: the prompt each edited image is pushed towards. */
  textEdit: Partial<Record<PartAImageName, string>>;
  /** SPEC 1.8: three illusions. */
  anagrams: [AnagramPrompts, AnagramPrompts, AnagramPrompts];
  /** SPEC 1.9: three hybrids. */
  hybrids: [HybridPrompts, HybridPrompts, HybridPrompts];
}

/**
 * The built-in colour model reads free text made of the words of its training captions (emoji
 * names and keywords, and frames such as "a photo of" and "an oil painting of", which it learned
 * carry no meaning). The original's prompts are used where every word is known, and otherwise
 * the nearest subject it knows ("snowy mountain village" -> "snow capped mountain", "waterfalls"
 * -> "water wave", "people around a campfire" -> "people and fire").
 */
const BUILTIN_COLOUR: PartAPrompts = {
  sampling: ['an oil painting of a snow capped mountain', 'a man wearing a hat', 'a rocket ship'],
  generic: GENERIC_PROMPT,
  unconditional: UNCONDITIONAL_PROMPT,
  textEdit: { campanile: 'a pencil', 'own-1': 'a photo of a dog', 'own-2': 'a rocket ship' },
  anagrams: [
    { upright: 'an oil painting of people and fire', viewed: 'an oil painting of an old man', view: 'flip' },
    { upright: 'an oil painting of a snow capped mountain', viewed: 'a photo of a dog', view: 'flip' },
    { upright: 'a lithograph of a water wave', viewed: 'a man wearing a hat', view: 'rotate180' },
  ],
  hybrids: [
    { far: 'a lithograph of a skull', near: 'a lithograph of a water wave' },
    { far: 'a photo of a dog', near: 'a photo of a beach' },
    { far: 'an oil painting of an old man', near: 'a rocket ship' },
  ],
};

/**
 * A digit anagram that only the anagram trick makes (A1.8's judged figure). Measured with the
 * digits model and Part B's digit judge, 16 candidates: an 8 that turned round reads as a 3 in 14,
 * 12 and 15 of 16 at seeds 0, 1 and 2, plain 8s turned round in 0, 0 and 0. Other pairs were
 * weaker or need no trick: a 6 turned round is a 9 by itself; a 7 upside down reads as a 2 in
 * 12 of 16, but so do 8 of 16 plain 7s; a 4 upside down as a 7 in 10 of 16 (plain 4s: 1), drawn
 * as hooks rather than digits.
 */
export const DIGIT_ANAGRAM: DigitAnagram = { upright: 8, viewed: 3, view: 'rotate180' };

/**
 * The built-in digits model knows 10 digits and 10 garments. The anagram pairs read differently under
 * the view: an 8 turned round as a 3 (DIGIT_ANAGRAM), a 2 upside down as a 5, and a pair of
 * trousers upside down as a 1 (both tall, one-stroke-wide shapes).
 */
const BUILTIN: PartAPrompts = {
  sampling: ['a handwritten 3', 'a photo of a sneaker', 'a photo of a dress'],
  generic: GENERIC_PROMPT,
  unconditional: UNCONDITIONAL_PROMPT,
  textEdit: { campanile: 'a photo of an ankle boot', 'own-1': 'a photo of a dress', 'own-2': 'a photo of a sandal' },
  anagrams: [
    { upright: DIGIT_PROMPTS[DIGIT_ANAGRAM.upright], viewed: DIGIT_PROMPTS[DIGIT_ANAGRAM.viewed], view: DIGIT_ANAGRAM.view },
    { upright: 'a handwritten 2', viewed: 'a handwritten 5', view: 'flip' },
    { upright: 'a photo of trousers', viewed: 'a handwritten 1', view: 'flip' },
  ],
  hybrids: [
    { far: 'a handwritten 0', near: 'a photo of a bag' },
    { far: 'a photo of a t-shirt', near: 'a handwritten 7' },
    { far: 'a handwritten 8', near: 'a photo of a dress' },
  ],
};

/** The original writeup's prompts (DeepFloyd IF with precomputed T5 embeddings). */
const DEEPFLOYD: PartAPrompts = {
  sampling: ['an oil painting of a snowy mountain village', 'a man wearing a hat', 'a rocket ship'],
  generic: 'a high quality photo',
  unconditional: '',
  textEdit: { campanile: 'a rocket ship', 'own-1': 'a rocket ship', 'own-2': 'a rocket ship' },
  anagrams: [
    { upright: 'an oil painting of people around a campfire', viewed: 'an oil painting of an old man', view: 'flip' },
    { upright: 'an oil painting of a snowy mountain village', viewed: 'a photo of a dog', view: 'flip' },
    { upright: 'a lithograph of waterfalls', viewed: 'a man wearing a hat', view: 'rotate180' },
  ],
  hybrids: [
    { far: 'a lithograph of a skull', near: 'a lithograph of waterfalls' },
    { far: 'a photo of a dog', near: 'a photo of the amalfi cost' },
    { far: 'an oil painting of an old man', near: 'a rocket ship' },
  ],
};

/** The writeup's prompts for each Part A model (part-a-models.ts names them). */
const PROMPT_SETS: Readonly<Record<PartAModelKind, PartAPrompts>> = {
  builtin: BUILTIN_COLOUR,
  'builtin-digits': BUILTIN,
  'deepfloyd-if': DEEPFLOYD,
};

export function partAPrompts(kind: PartAModelKind): PartAPrompts {
  const prompts = PROMPT_SETS[kind];
  if (!prompts) throw new Error(`Unknown Part A model "${kind}": use one of ${Object.keys(PROMPT_SETS).join(', ')}`);
  return prompts;
}

/** Every prompt a set uses (without repeats), e.g. to precompute embeddings for a new model. */
export function allPrompts(p: PartAPrompts): string[] {
  const list = [
    ...p.sampling,
    p.generic,
    p.unconditional,
    ...Object.values(p.textEdit),
    ...p.anagrams.flatMap((a) => [a.upright, a.viewed]),
    ...p.hybrids.flatMap((h) => [h.far, h.near]),
  ].filter((s): s is string => s !== undefined);
  return [...new Set(list)];
}

/** Fails early, naming every missing prompt, when a model cannot embed prompts the notebooks need. */
export function checkPromptsKnown(p: PartAPrompts, encoder: PromptEncoder): void {
  const missing = allPrompts(p).filter((s) => !encoder.has(s));
  if (missing.length === 0) return;
  if (encoder instanceof PromptDictionary) {
    throw new Error(
      `The prompt embeddings lack ${missing.map((s) => JSON.stringify(s)).join(', ')}, which Part A's notebooks use. ` +
        "Precompute them with the model's text encoder and add them to the prompt file (see docs/deepfloyd-if.md).",
    );
  }
  // A text encoder's own error says which words it does not know and the nearest ones it does.
  const reasons = missing.map((s) => {
    try {
      encoder.embed(s).dispose();
      return `${JSON.stringify(s)} cannot be embedded`;
    } catch (err) {
      return (err as Error).message;
    }
  });
  throw new Error(`Part A's notebooks use prompts this model cannot read: ${reasons.join(' ')}`);
}
