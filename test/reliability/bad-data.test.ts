// Data and weights that cannot give a meaningful result are refused before work starts
// (an empty IDX set "trained" to loss NaN and was marked complete; 5x7 images hit a tfjs internal
// error; a checkpoint of NaN sampled an all-black PNG with exit 0).
import assert from 'assert/strict';
import * as fs from 'fs';
import { saveCheckpoint, loadCheckpoint } from '../../src/lib/checkpoint';
import { trainConfigFor } from '../../src/writeup/profiles';
import { createModel } from '../../src/lib/train/networks';
import { runFiles, train } from '../../src/lib/train/trainer';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';

describe('reliability: bad data and weights', function () {
  this.timeout(60_000);
  before(useDefaultBackend);
  const config = trainConfigFor('denoiser', 'smoke', { hidden: 4, batchSize: 16, epochs: 1, trainLimit: 0 });

  it('an empty training set is refused and nothing is written', async () => {
    const data = syntheticSplits(16);
    const empty = { ...data, train: { ...data.train, images: new Float32Array(0), labels: new Uint8Array(0), count: 0 } };
    const dir = tempDir('empty-');
    await assert.rejects(
      train({ config, data: empty, runDir: dir, progress: 'silent', workers: 0 }),
      /The training set is empty \(0 images from .*\): check the data files/,
    );
    assert.ok(!fs.existsSync(runFiles(dir).meta));
  });

  it('images of the wrong size are refused with the sizes', async () => {
    const data = syntheticSplits(16);
    const small = { ...data, train: { ...data.train, images: new Float32Array(16 * 35), height: 5, width: 7 } };
    await assert.rejects(
      train({ config, data: small, runDir: tempDir('small-'), progress: 'silent', workers: 0 }),
      /takes 28x28 gray images, but .* has 5x7x1/,
    );
  });

  it('weights holding NaN are refused on load, naming the file and tensor', async () => {
    const model = createModel(config);
    const entries = model.stateEntries();
    const file = `${tempDir('nan-weights-')}/model.safetensors`;
    await saveCheckpoint(file, entries, { epoch: '1' });
    const { values } = loadCheckpoint(file);
    const [name] = entries[0];
    values.get(name)!.data[3] = Number.NaN;
    assert.throws(() => model.loadState(values, file), new RegExp(`model\\.safetensors: tensor "${name.replace(/\./g, '\\.')}" holds NaN \\(at index 3\\)`));
    model.dispose();
  });
});
