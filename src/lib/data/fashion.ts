/**
 * Fashion-MNIST (Zalando): 28x28 grayscale clothing images, 60,000 train / 10,000 test, in the
 * same IDX format and with the same file names as MNIST. The Debian package
 * dataset-fashion-mnist installs them gzipped in /usr/share/datasets/fashion-mnist/
 * (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
 * t10k-labels-idx1-ubyte.gz); raw (gunzipped) copies are accepted too.
 */
import * as path from 'path';
import type { DatasetSplits } from './dataset';
import { loadIdxDir } from './idx';

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export const DEBIAN_FASHION_DIR = '/usr/share/datasets/fashion-mnist';

/** Loads Fashion-MNIST from opts.dir, else env FASHION_MNIST_DIR, else the Debian package's folder. */
export async function loadFashionMnist(opts: { dir?: string } = {}): Promise<DatasetSplits> {
  const dir = opts.dir ?? (process.env.FASHION_MNIST_DIR || DEBIAN_FASHION_DIR);
  const fix =
    `Install the Debian package (apt-get install dataset-fashion-mnist, which fills ${DEBIAN_FASHION_DIR}), ` +
    'or pass a folder with the four Fashion-MNIST IDX files (opts.dir or env FASHION_MNIST_DIR).';
  const { train, test } = loadIdxDir(dir, FASHION_CLASSES, fix);
  const fromDebian = path.resolve(dir) === DEBIAN_FASHION_DIR;
  const where = fromDebian ? `the Debian package dataset-fashion-mnist (${dir})` : dir;
  return {
    train,
    test,
    source: {
      kind: fromDebian ? 'debian-package' : 'idx-dir',
      description: `Fashion-MNIST from ${where}: ${train.count} train / ${test.count} test`,
      path: dir,
    },
  };
}
