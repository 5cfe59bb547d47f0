// Where the library's worker threads find their compiled scripts. Compiled code (dist/src/lib)
// has them beside itself; code compiled on the fly from src/lib (the tslab notebook kernel) uses
// dist/'s copy, but only while it is newer than every library source, so a worker never runs
// other code than the thread that started it.
import * as fs from 'fs';
import * as path from 'path';
import { MAX_WORKERS } from './runtime-options';

/** `file` (e.g. "train/gradient-worker.js", relative to the library folder) compiled under dist/. */
function distScript(file: string, libDir: string): string {
  return path.resolve(libDir, '..', '..', 'dist', 'src', 'lib', file);
}

/**
 * The compiled worker script `file` (relative to the library folder `libDir`, by default this
 * file's folder: src/lib or dist/src/lib), or null where there is none.
 */
export function workerScript(file: string, libDir = __dirname): string | null {
  const candidates = [path.join(libDir, file), distScript(file, libDir)];
  return candidates.find((f) => fs.existsSync(f)) ?? null;
}

/** Why the worker script `file` cannot serve code running from `libDir`, or null when it can. */
export function workerScriptProblem(file: string, libDir = __dirname): string | null {
  if (fs.existsSync(path.join(libDir, file))) return null;
  const dist = distScript(file, libDir);
  if (!fs.existsSync(dist)) return `${dist} is missing (run \`npm run build\`)`;
  const built = fs.statSync(dist).mtimeMs;
  const stale = (fs.readdirSync(libDir, { recursive: true }) as string[]).find((f) => f.endsWith('.ts') && fs.statSync(path.join(libDir, f)).mtimeMs > built);
  return stale ? `src/lib/${stale} changed after the last build (run \`npm run build\`)` : null;
}

export { MAX_WORKERS };

const notes = new Set<string>();

/** Prints a line to stderr once per process (why work runs without its workers). */
export function noteOnce(line: string): void {
  if (notes.has(line)) return;
  notes.add(line);
  process.stderr.write(line + '\n');
}
