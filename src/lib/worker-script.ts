// Where the library's worker threads find their compiled scripts. Compiled code (dist/src/lib)
// has them beside itself; code compiled on the fly from src/lib (the tslab notebook kernel) uses
// dist/'s copy, but only while it is newer than every library source, so a worker never runs
// other code than the thread that started it.
import * as fs from 'fs';
import * as path from 'path';

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
  const stale = (fs.readdirSync(libDir, { recursive: true }) as string[])
    .find((f) => f.endsWith('.ts') && fs.statSync(path.join(libDir, f)).mtimeMs > built);
  return stale ? `src/lib/${stale} changed after the last build (run \`npm run build\`)` : null;
}

/** The most worker threads an explicit count may ask for. */
export const MAX_WORKERS = 16;

/**
 * A worker count asked for: `explicit` if given, else the environment variable `envVar` (checked:
 * a whole number from 0 to MAX_WORKERS), else undefined (the caller's default). `zeroMeans` says
 * in the error what 0 or 1 does.
 */
export function requestedWorkers(envVar: string, explicit: number | undefined, zeroMeans: string): number | undefined {
  if (explicit !== undefined) return explicit;
  const env = process.env[envVar]?.trim();
  if (!env) return undefined;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > MAX_WORKERS) {
    throw new Error(
      `${envVar}=${env} is not a worker count. Use a whole number from 0 to ${MAX_WORKERS} ` +
        `(0 or 1 ${zeroMeans}), or unset it for one worker per core.`,
    );
  }
  return n;
}

const notes = new Set<string>();

/** Prints a line to stderr once per process (why work runs without its workers). */
export function noteOnce(line: string): void {
  if (notes.has(line)) return;
  notes.add(line);
  process.stderr.write(line + '\n');
}
