import * as fs from 'fs';
import * as path from 'path';

/**
 * The path of a file shipped inside src/lib (weights, images), whether the code runs from
 * src/lib (the notebook kernel compiles the sources in place) or from dist/src/lib (the compiled
 * CLI and tests), where only code is emitted. Returns the first candidate that exists, else the
 * src/lib one (so an error names where the file belongs).
 */
export function sourceFile(...parts: string[]): string {
  const libRoot = path.resolve(__dirname, '..');
  const inSource = path.join(libRoot, '..', '..', '..', 'src', 'lib', ...parts);
  const candidates = [path.join(libRoot, ...parts), inSource];
  return candidates.find((f) => fs.existsSync(f)) ?? (libRoot.includes(`${path.sep}dist${path.sep}`) ? inSource : candidates[0]);
}
