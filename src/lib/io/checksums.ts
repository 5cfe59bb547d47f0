import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from './atomic';

/**
 * Checksums that catch damaged weights before they are used (a flipped byte in a weights file
 * otherwise loads without error and changes every result silently):
 *  - a file this project writes carries the SHA-256 of its tensor data in its metadata
 *    (DATA_CHECKSUM_KEY), checked when it is read back;
 *  - a folder of shipped files lists their SHA-256 in SHA256SUMS (the format `sha256sum -c` reads),
 *    checked whenever one of them is loaded.
 */

export const DATA_CHECKSUM_KEY = 'sha256';
export const SUMS_FILE = 'SHA256SUMS';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What to do about a damaged file: shipped files come back from git, run files from training. */
function fixFor(file: string): string {
  const name = path.basename(file);
  if (fs.existsSync(path.join(path.dirname(file), SUMS_FILE))) {
    return `It ships with the project: restore it with \`git checkout -- ${file}\` (or reinstall the package).`;
  }
  if (/^model-epoch-\d+\.safetensors$/.test(name)) return 'Use the weights of another epoch (--epoch N), or train the run again.';
  if (name === 'checkpoint.safetensors') return 'Delete it to train the run again from the start, or train in a new run folder.';
  return 'Restore it from a copy, or write it again.';
}

/** Checks `bytes` (the file's data section) against the checksum its metadata records, if any. */
export function checkDataChecksum(file: string, data: Uint8Array, metadata: Readonly<Record<string, string>>): void {
  const recorded = metadata[DATA_CHECKSUM_KEY];
  if (recorded === undefined) return; // written before checksums, or by another program
  const actual = sha256(data);
  if (actual !== recorded) {
    throw new Error(
      `${file} is damaged: its tensor data does not match the SHA-256 written with it (${recorded.slice(0, 12)}..., now ${actual.slice(0, 12)}...). ${fixFor(file)}`,
    );
  }
}

/** Checks a file against its folder's SHA256SUMS when the folder has one that lists it. */
export function checkShippedFile(file: string, bytes: Uint8Array): void {
  const sums = readSums(path.dirname(file));
  const expected = sums.get(path.basename(file));
  if (expected === undefined) return;
  const actual = sha256(bytes);
  if (actual !== expected) {
    throw new Error(
      `${file} is damaged: its SHA-256 is ${actual.slice(0, 12)}..., but ${SUMS_FILE} beside it says ${expected.slice(0, 12)}.... ${fixFor(file)}`,
    );
  }
}

/** Writes (or updates) `file`'s line in its folder's SHA256SUMS; for exporters of shipped files. */
export function recordShippedChecksum(file: string): void {
  const dir = path.dirname(file);
  const sums = readSums(dir);
  sums.set(path.basename(file), sha256(fs.readFileSync(file)));
  const lines = [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, hash]) => `${hash}  ${name}`);
  writeFileAtomic(path.join(dir, SUMS_FILE), lines.join('\n') + '\n');
}

function readSums(dir: string): Map<string, string> {
  const file = path.join(dir, SUMS_FILE);
  const out = new Map<string, string>();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2], m[1]);
  }
  return out;
}
