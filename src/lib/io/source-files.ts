import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../versions';

/**
 * The path of a file shipped inside src/lib (weights, images). The code runs from src/lib itself
 * (the notebook kernel compiles the sources in place), from dist/src/lib (`npm run build`) or from
 * dist/lib (`npm run build:lib`, which is what an installed package runs), and the compilers emit
 * only code: the files stay in the package's src/lib, found from its package.json, so the lookup
 * holds wherever the package sits. Returns the file beside the code if it is there, else the
 * src/lib one, whether or not it exists (so an error names where the file belongs).
 */
export function sourceFile(...parts: string[]): string {
  const beside = path.join(__dirname, '..', ...parts);
  if (fs.existsSync(beside)) return beside;
  return path.join(projectRoot(), 'src', 'lib', ...parts);
}
