import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { workerScript, workerScriptProblem } from '../src/lib/worker-script';
import { tempDir } from './helpers';

describe('worker scripts', () => {
  for (const file of ['train/gradient-worker.js', 'nn/unet-worker.js']) {
    it(`${file}: compiled code uses its own; code running from src/lib (the notebook kernel) uses dist's`, () => {
      const compiled = workerScript(file);
      assert.ok(compiled && fs.existsSync(compiled), `${file} not found beside the compiled library`);
      assert.equal(workerScriptProblem(file), null);
      const srcLib = path.resolve('src', 'lib');
      assert.equal(workerScript(file, srcLib), path.resolve('dist', 'src', 'lib', file));
    });
  }

  it('a missing or stale compiled script is named, with the fix', () => {
    const root = tempDir('worker-script');
    const lib = path.join(root, 'src', 'lib');
    fs.mkdirSync(path.join(lib, 'nn'), { recursive: true });
    fs.writeFileSync(path.join(lib, 'nn', 'unet.ts'), '');
    assert.equal(workerScript('nn/unet-worker.js', lib), null);
    assert.match(workerScriptProblem('nn/unet-worker.js', lib)!, /dist\/src\/lib\/nn\/unet-worker\.js is missing \(run `npm run build`\)/);
    const built = path.join(root, 'dist', 'src', 'lib', 'nn', 'unet-worker.js');
    fs.mkdirSync(path.dirname(built), { recursive: true });
    fs.writeFileSync(built, '');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(built, past, past);
    assert.match(workerScriptProblem('nn/unet-worker.js', lib)!, /src\/lib\/nn\/unet\.ts changed after the last build/);
    fs.utimesSync(built, new Date(), new Date());
    assert.equal(workerScriptProblem('nn/unet-worker.js', lib), null);
  });
});
