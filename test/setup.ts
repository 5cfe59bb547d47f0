// Mocha root hooks (.mocharc "require"): nothing a test runs may write into the user's outputs/.
// Runs, the judge and figures that a test does not place itself go to a temporary folder.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OUTPUTS_ENV_VAR } from '../src/lib/io/outputs';

export const mochaHooks = {
  beforeAll(): void {
    process.env[OUTPUTS_ENV_VAR] = fs.mkdtempSync(path.join(os.tmpdir(), 'diffusion-test-outputs-'));
  },
};
