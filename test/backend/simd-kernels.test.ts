import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('WebAssembly SIMD kernels (src/lib/backend/simd)', function () {
  this.timeout(30000);

  it('each embedded module is the assembled binary of its .wat source (run `npm run build:wasm` after an edit)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const build = require(path.join(ROOT, 'scripts', 'build-wasm.js')) as { generate(watFile: string): Promise<string> };
    const dir = path.join(ROOT, 'src', 'lib', 'backend', 'simd');
    const sources = fs.readdirSync(dir).filter((f) => f.endsWith('.wat'));
    assert.ok(sources.length > 0);
    for (const f of sources) {
      const embedded = fs.readFileSync(path.join(dir, f.replace(/\.wat$/, '-wasm.ts')), 'utf8');
      assert.equal(embedded, await build.generate(path.join(dir, f)), `${f} and its -wasm.ts differ`);
    }
  });
});
