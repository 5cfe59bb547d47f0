import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { DEBIAN_FASHION_DIR, FASHION_CLASSES, loadFashionMnist } from '../../src/lib/data/fashion';
import { tempDir, writeSplitDir } from './fixtures';

describe('data/fashion', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('fashion');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads a folder of IDX files with the ten class names', async () => {
    writeSplitDir(dir, { gzip: true, trainCount: 15, testCount: 5 });
    const splits = await loadFashionMnist({ dir });
    assert.equal(splits.source.kind, 'idx-dir');
    assert.equal(splits.train.count, 15);
    assert.equal(splits.test.count, 5);
    assert.equal(splits.train.classes.length, 10);
    assert.equal(splits.train.classes[0], 'T-shirt/top');
    assert.equal(splits.train.classes[9], 'Ankle boot');
    assert.equal(FASHION_CLASSES[splits.test.labels[4]], 'Coat');
  });

  it('reads FASHION_MNIST_DIR when no dir is passed', async () => {
    writeSplitDir(dir, { trainCount: 4, testCount: 2 });
    const saved = process.env.FASHION_MNIST_DIR;
    process.env.FASHION_MNIST_DIR = dir;
    try {
      const splits = await loadFashionMnist();
      assert.equal(splits.source.path, dir);
      assert.equal(splits.train.count, 4);
    } finally {
      if (saved === undefined) delete process.env.FASHION_MNIST_DIR;
      else process.env.FASHION_MNIST_DIR = saved;
    }
  });

  it('explains how to get the data when the folder is missing', async () => {
    await assert.rejects(
      loadFashionMnist({ dir: path.join(dir, 'absent') }),
      /absent does not exist\. .*apt-get install dataset-fashion-mnist.*FASHION_MNIST_DIR/,
    );
  });

  it('loads the Debian package when it is installed', async function () {
    if (!fs.existsSync(DEBIAN_FASHION_DIR)) this.skip();
    const splits = await loadFashionMnist({ dir: DEBIAN_FASHION_DIR });
    assert.equal(splits.source.kind, 'debian-package');
    assert.equal(splits.train.count, 60000);
    assert.equal(splits.test.count, 10000);
    assert.equal(splits.train.height, 28);
    assert.equal(splits.train.width, 28);
    for (let c = 0; c < 10; c++) assert.equal(splits.test.labels.filter((l) => l === c).length, 1000);
  });
});
