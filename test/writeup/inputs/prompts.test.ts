import { strict as assert } from 'assert';
import { allPrompts, checkPromptsKnown, partAPrompts } from '../../../src/writeup/inputs/prompts';
import { partASettings } from '../../../src/writeup/inputs/settings';
import { builtinPrompts } from '../../../src/lib/pretrained/builtin';
import { PromptDictionary } from '../../../src/lib/pretrained/model';

describe('inputs/prompts and settings', () => {
  it('uses only prompts the built-in digits model knows, with "" unconditional', () => {
    const p = partAPrompts('builtin-digits');
    checkPromptsKnown(p, builtinPrompts());
    assert.equal(p.unconditional, '');
    assert.equal(p.generic, 'a high quality photo');
    assert.deepEqual(p.anagrams.map((a) => a.view).sort(), ['flip', 'flip', 'rotate180']);
  });

  it("names every missing prompt of a model's dictionary", () => {
    const dict = new PromptDictionary(new Map([['', new Float32Array(2)]]), 2);
    assert.throws(() => checkPromptsKnown(partAPrompts('deepfloyd-if'), dict), /lack "an oil painting of a snowy mountain village".*"a rocket ship"/);
    assert.ok(allPrompts(partAPrompts('deepfloyd-if')).includes(''));
    assert.throws(() => partAPrompts('sd' as never), /Unknown Part A model "sd"/);
  });

  it("keeps SPEC's settings in quick and full", () => {
    for (const name of ['quick', 'full']) {
      const s = partASettings(name);
      assert.deepEqual(s.inferenceSteps, [5, 10, 20, 40]);
      assert.deepEqual(s.iStarts, [1, 3, 5, 7, 10, 20]);
      assert.equal(s.noiseTimesteps.length, 34);
      assert.equal(s.samples, 5);
      assert.equal(s.illusions, 3);
    }
    assert.throws(() => partASettings('huge'), /Unknown profile "huge"/);
  });
});
