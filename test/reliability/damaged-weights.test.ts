// Damaged weights are refused before they are used: a few flipped bytes in a run's checkpoint,
// an epoch's weights or a shipped file used to load without error and change every result.
import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { sha256, SUMS_FILE } from '../../src/lib/io/checksums';
import { builtinWeightsFile, loadBuiltinDigitsModel } from '../../src/lib/pretrained/builtin';
import { EMOJI_STAGE1_FILE, EMOJI_STAGE2_FILE, loadEmojiCascade, weightsDir } from '../../src/lib/pretrained/emoji-model';
import { trainConfigFor } from '../../src/writeup/profiles';
import { loadTrainedModel, runFiles, train } from '../../src/lib/train/trainer';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';

/** Flips `count` bytes in the middle of a file (inside its tensor data). */
function flipMiddle(file: string, count: number): void {
  const bytes = fs.readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  for (let i = 0; i < count; i++) bytes[at + i] ^= 0x5a;
  fs.writeFileSync(file, bytes);
}

describe('reliability: damaged weights are refused, naming the file and the fix', function () {
  this.timeout(120_000);
  before(useDefaultBackend);
  const data = syntheticSplits(48);
  const config = trainConfigFor('time', 'smoke', { hidden: 4, batchSize: 16, epochs: 2, trainLimit: 0, T: 20 });

  it("a run's checkpoint with 8 flipped bytes is not resumed", async () => {
    const dir = tempDir('damaged-ckpt-');
    (await train({ config, data, runDir: dir, progress: 'silent', stopAfterEpochs: 1 })).model.dispose();
    const file = runFiles(dir).checkpoint;
    flipMiddle(file, 8);
    await assert.rejects(
      train({ config, data, runDir: dir, progress: 'silent' }),
      (err: Error) =>
        err.message.startsWith(`${file} is damaged: its tensor data does not match the SHA-256 written with it`) &&
        err.message.includes('Delete it to train the run again from the start'),
    );
  });

  it("an epoch's weights with 8 flipped bytes are not sampled from", async () => {
    const dir = tempDir('damaged-epoch-');
    (await train({ config, data, runDir: dir, progress: 'silent' })).model.dispose();
    flipMiddle(runFiles(dir).epochWeights(1), 8);
    assert.throws(() => loadTrainedModel(dir, 1), /model-epoch-001\.safetensors is damaged: .*Use the weights of another epoch \(--epoch N\)/);
    loadTrainedModel(dir, 2).model.dispose(); // the other epoch is fine
  });

  it('a shipped weights file with 4 flipped bytes is refused with the git command that restores it', () => {
    const dir = tempDir('damaged-shipped-');
    for (const name of [path.basename(builtinWeightsFile()), EMOJI_STAGE1_FILE, EMOJI_STAGE2_FILE, SUMS_FILE]) {
      fs.copyFileSync(path.join(weightsDir(), name), path.join(dir, name));
    }
    const builtin = path.join(dir, path.basename(builtinWeightsFile()));
    flipMiddle(builtin, 4);
    assert.throws(
      () => loadBuiltinDigitsModel(builtin),
      new RegExp(`${builtin.replace(/[/.]/g, '\\$&')} is damaged: its SHA-256 is .* restore it with \`git checkout -- `),
    );
    flipMiddle(path.join(dir, EMOJI_STAGE1_FILE), 4);
    assert.throws(() => loadEmojiCascade(dir), /emoji-stage1\.safetensors is damaged: .*git checkout/);
    // Cut short (an interrupted copy): the same message, not 'delete it and retrain'.
    fs.copyFileSync(path.join(weightsDir(), EMOJI_STAGE1_FILE), path.join(dir, EMOJI_STAGE1_FILE));
    fs.truncateSync(path.join(dir, EMOJI_STAGE2_FILE), fs.statSync(path.join(dir, EMOJI_STAGE2_FILE)).size >> 1);
    assert.throws(() => loadEmojiCascade(dir), /emoji-stage2\.safetensors is damaged: .*git checkout/);
  });

  it('SHA256SUMS lists every shipped weights file with its present hash (sha256sum -c reads it)', () => {
    const lines = fs.readFileSync(path.join(weightsDir(), SUMS_FILE), 'utf8').trim().split('\n');
    const listed = new Map(lines.map((l) => [l.slice(66), l.slice(0, 64)]));
    const shipped = fs
      .readdirSync(weightsDir())
      .filter((f) => f.endsWith('.safetensors'))
      .sort();
    assert.deepEqual([...listed.keys()].sort(), shipped);
    for (const [name, hash] of listed)
      assert.equal(sha256(fs.readFileSync(path.join(weightsDir(), name))), hash, `${name}: update SHA256SUMS with the pretrain command's --export`);
  });
});
