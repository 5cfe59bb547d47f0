import assert from 'assert/strict';
import { PromptDictionary } from '../../src/lib/pretrained/model';
import { useDefaultBackend } from '../helpers';
import { fakePrompts } from './fake-model';

describe('PromptDictionary', () => {
  before(useDefaultBackend);

  it('embeds known prompts as [1, E] and several as [B, E]', () => {
    const d = fakePrompts();
    assert.equal(d.has('a handwritten 2'), true);
    assert.equal(d.has('a handwritten 3'), false);
    assert.deepEqual(d.prompts(), ['', 'a high quality photo', 'a handwritten 2', 'a handwritten 5']);
    const one = d.embed('a handwritten 2');
    assert.deepEqual(one.shape, [1, 2]);
    assert.deepEqual(Array.from(one.dataSync()), [Math.fround(0.3), 9]);
    const many = d.embedMany(['', 'a handwritten 5']);
    assert.deepEqual(many.shape, [2, 2]);
    assert.deepEqual(Array.from(many.dataSync()), [0, 9, Math.fround(-0.2), 9]);
    one.dispose();
    many.dispose();
  });

  it('rejects an unknown prompt with the list of known prompts', () => {
    const d = fakePrompts();
    assert.throws(
      () => d.embed('a photo of a cat'),
      (e: Error) => {
        assert.match(e.message, /Unknown prompt "a photo of a cat"/);
        assert.match(e.message, /"", "a high quality photo", "a handwritten 2", "a handwritten 5"/);
        return true;
      },
    );
  });

  it('rejects embeddings of the wrong size', () => {
    assert.throws(() => new PromptDictionary(new Map([['x', new Float32Array(3)]]), 2), /"x" has 3 values, expected 2/);
  });
});
