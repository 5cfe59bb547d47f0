/**
 * Words -> token ids for the built-in text encoder. A prompt is lower-cased and split into words
 * (runs of letters and digits); every word must be in the vocabulary, which is made from the
 * training captions. An unknown word is an error that lists the known words closest to it, so a
 * user learns what the model can be asked for.
 *
 * Ids: 0 is padding, 1 starts every sequence (so the empty prompt "" is [1] and still has an
 * encoding of its own, the unconditional embedding of classifier-free guidance), words from 2.
 */
export const PAD_ID = 0;
export const START_ID = 1;
const FIRST_WORD_ID = 2;

/** The words of a prompt: lower case, split at anything that is not a letter or a digit. */
export function words(prompt: string): string[] {
  return prompt
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export class UnknownWordsError extends Error {
  constructor(
    readonly prompt: string,
    readonly unknown: Array<{ word: string; nearest: string[] }>,
  ) {
    super(
      `The prompt ${JSON.stringify(prompt)} has word(s) this model never saw: ` +
        unknown.map((u) => `"${u.word}" (nearest known: ${u.nearest.join(', ')})`).join('; ') +
        '. Use known words; vocabulary.words lists all of them.',
    );
  }
}

export class Vocabulary {
  private readonly ids: Map<string, number>;

  /** `list` holds the words in id order (id = index + 2); no duplicates, each a single lower-case word. */
  constructor(
    readonly list: readonly string[],
    readonly maxTokens: number,
  ) {
    if (!Number.isInteger(maxTokens) || maxTokens < 2) throw new Error(`Vocabulary: maxTokens must be an integer >= 2, got ${maxTokens}`);
    this.ids = new Map();
    list.forEach((w, i) => {
      if (words(w).length !== 1 || words(w)[0] !== w) throw new Error(`Vocabulary: "${w}" is not a single lower-case word`);
      if (this.ids.has(w)) throw new Error(`Vocabulary: "${w}" appears twice`);
      this.ids.set(w, i + FIRST_WORD_ID);
    });
  }

  /** Every word of the given texts, sorted (a deterministic vocabulary for the same texts). */
  static fromTexts(texts: Iterable<string>, maxTokens: number): Vocabulary {
    const set = new Set<string>();
    for (const t of texts) for (const w of words(t)) set.add(w);
    return new Vocabulary([...set].sort(), maxTokens);
  }

  /** Ids 0..size-1 (padding, start and the words). */
  get size(): number {
    return this.list.length + FIRST_WORD_ID;
  }

  has(word: string): boolean {
    return this.ids.has(word);
  }

  /** The known words nearest to `word` by edit distance (ties: shared prefix, then alphabetical). */
  nearest(word: string, count = 5): string[] {
    const prefix = (w: string) => {
      let k = 0;
      while (k < w.length && k < word.length && w[k] === word[k]) k++;
      return k;
    };
    return this.list
      .map((w) => ({ w, d: editDistance(word, w), p: prefix(w) }))
      .sort((a, b) => a.d - b.d || b.p - a.p || (a.w < b.w ? -1 : 1))
      .slice(0, count)
      .map((x) => x.w);
  }

  /** The words of `prompt` that are not in the vocabulary (with their nearest known words). */
  unknownWords(prompt: string): Array<{ word: string; nearest: string[] }> {
    return [...new Set(words(prompt))].filter((w) => !this.ids.has(w)).map((w) => ({ word: w, nearest: this.nearest(w) }));
  }

  /**
   * Token ids of one prompt: [START, word ids..., PAD...], maxTokens long. Throws
   * UnknownWordsError for unknown words, and an error when the prompt has too many words.
   */
  encode(prompt: string): Int32Array {
    const unknown = this.unknownWords(prompt);
    if (unknown.length > 0) throw new UnknownWordsError(prompt, unknown);
    const ws = words(prompt);
    if (ws.length > this.maxTokens - 1) {
      throw new Error(`The prompt ${JSON.stringify(prompt)} has ${ws.length} words; this model reads at most ${this.maxTokens - 1}. Shorten it.`);
    }
    return this.idsOf(ws);
  }

  /**
   * Token ids of words already known to be in the vocabulary (training captions); words past
   * maxTokens - 1 are cut off.
   */
  idsOf(ws: readonly string[]): Int32Array {
    const out = new Int32Array(this.maxTokens);
    out[0] = START_ID;
    const n = Math.min(ws.length, this.maxTokens - 1);
    for (let i = 0; i < n; i++) {
      const id = this.ids.get(ws[i]);
      if (id === undefined) throw new Error(`Vocabulary.idsOf: "${ws[i]}" is not in the vocabulary`);
      out[i + 1] = id;
    }
    return out;
  }

  /** Token ids of several prompts, [count * maxTokens]. */
  encodeMany(prompts: readonly string[]): Int32Array {
    const out = new Int32Array(prompts.length * this.maxTokens);
    prompts.forEach((p, i) => out.set(this.encode(p), i * this.maxTokens));
    return out;
  }
}
