import assert from 'node:assert/strict';
import { Rng } from '../../src/lib/random';
import { CAPTION_FRAMES, captionVocabulary, composeCaption } from '../../src/lib/text/captions';
import { editDistance, PAD_ID, START_ID, UnknownWordsError, Vocabulary, words } from '../../src/lib/text/tokenizer';

describe("text: tokenizer and captions (the colour model's prompts)", () => {
  const vocab = Vocabulary.fromTexts(['a rocket ship', 'an oil painting of a dog', 'older man', 'snow capped mountain'], 8);

  it('splits prompts into lower-case words at anything that is not a letter or digit', () => {
    assert.deepEqual(words('A Rocket-ship, in 3D!'), ['a', 'rocket', 'ship', 'in', '3d']);
    assert.deepEqual(words('  '), []);
  });

  it('encodes a prompt as [START, word ids..., PAD...] of maxTokens, the empty prompt as [START]', () => {
    const ids = vocab.encode('a rocket ship');
    assert.equal(ids.length, 8);
    assert.equal(ids[0], START_ID);
    assert.deepEqual(
      [...ids.slice(1, 4)].map((id) => vocab.list[id - 2]),
      ['a', 'rocket', 'ship'],
    );
    assert.deepEqual([...ids.slice(4)], [PAD_ID, PAD_ID, PAD_ID, PAD_ID]);
    assert.deepEqual([...vocab.encode('')], [START_ID, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(vocab.size, vocab.list.length + 2);
  });

  it('is deterministic: the same texts give the same sorted vocabulary', () => {
    const again = Vocabulary.fromTexts(['snow capped mountain', 'older man', 'an oil painting of a dog', 'a rocket ship'], 8);
    assert.deepEqual(again.list, vocab.list);
    assert.deepEqual([...vocab.list].sort(), vocab.list);
  });

  it('rejects unknown words with the nearest known ones', () => {
    assert.throws(
      () => vocab.encode('a snowy village'),
      (err: Error) => {
        assert.ok(err instanceof UnknownWordsError);
        assert.match(err.message, /"snowy" \(nearest known: snow,/);
        assert.match(err.message, /"village"/);
        assert.deepEqual(
          (err as UnknownWordsError).unknown.map((u) => u.word),
          ['snowy', 'village'],
        );
        return true;
      },
    );
    assert.equal(vocab.nearest('dgo', 1)[0], 'dog');
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('rejects prompts longer than the token window', () => {
    assert.throws(() => vocab.encode('a a a a a a a a'), /has 8 words; this model reads at most 7/);
  });

  it('refuses a malformed vocabulary', () => {
    assert.throws(() => new Vocabulary(['dog', 'dog'], 4), /appears twice/);
    assert.throws(() => new Vocabulary(['two words'], 4), /not a single lower-case word/);
    assert.throws(() => new Vocabulary(['dog'], 1), /maxTokens must be an integer >= 2/);
  });

  it('composes captions from names, keywords, frames and style, all inside the caption vocabulary', () => {
    const subjects = [
      { names: ['rocket'], keywords: ['launch', 'outer space'] },
      { names: ['older man', 'old man'], keywords: [] },
    ];
    const v = captionVocabulary(subjects, ['noto', 'twemoji'], 16);
    const a = Array.from({ length: 50 }, () => '');
    const rng = new Rng(4);
    for (let i = 0; i < a.length; i++) a[i] = composeCaption(subjects[i % 2], 'noto', rng);
    const again = new Rng(4);
    assert.deepEqual(
      a.map((_, i) => composeCaption(subjects[i % 2], 'noto', again)),
      a,
      'same seed, same captions',
    );
    for (const c of a) assert.doesNotThrow(() => v.encode(c), c);
    assert.ok(
      a.some((c) => CAPTION_FRAMES.some((f) => c.startsWith(`${f} `))),
      'some captions are framed',
    );
    assert.ok(
      a.some((c) => c.endsWith('in noto style')),
      'some name the style',
    );
    assert.ok(
      a.some((c) => !c.includes('rocket') && /launch|outer space/.test(c)),
      'some name the rocket by a keyword alone',
    );
    assert.ok(
      a.every((c, i) => i % 2 === 0 || /old/.test(c)),
      'the old man is always named',
    );
  });
});
