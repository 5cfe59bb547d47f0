import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic';

/**
 * A run log in JSON Lines: one JSON record per line, appended as training goes. A process killed
 * mid-write can leave a partial last line; readers skip it and the next append removes it.
 */

/**
 * If the file ends in a partial line (no final newline), cuts it off so that the next record
 * starts on a line of its own instead of being glued to garbage.
 */
function dropPartialTail(file: string): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return; // no file yet
  }
  if (size === 0) return;
  const fd = fs.openSync(file, 'r+');
  try {
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    if (last[0] === 0x0a) return;
    // Rare (only after a crash): read the whole file to find the last complete line.
    const content = fs.readFileSync(file);
    fs.ftruncateSync(fd, content.lastIndexOf(0x0a) + 1);
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends one record as a JSON line, creating the file and its folders if needed. */
export function appendJsonLine(file: string, record: unknown): void {
  const line = JSON.stringify(record);
  if (line === undefined) {
    throw new Error(`appendJsonLine: cannot write ${typeof record} to ${file} as JSON; pass an object, array, string, number or boolean.`);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  dropPartialTail(file);
  fs.appendFileSync(file, line + '\n');
}

/**
 * Reads every record of a JSON Lines file; a missing file reads as no records. A last line without
 * its newline is the remains of a killed write and is ignored; a bad line anywhere else throws.
 */
export function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  lines.pop(); // after the final newline: '' for a complete file, else a partial line
  const records: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as T);
    } catch (err) {
      throw new Error(
        `Run log ${file} is corrupt at line ${i + 1}: ${(err as Error).message}. ` + 'Fix or delete that line, or delete the file to start the log afresh.',
        { cause: err },
      );
    }
  });
  return records;
}

/**
 * Rewrites the file atomically, keeping only the records for which keep() is true (for example,
 * when resuming from an earlier checkpoint, the records up to that checkpoint's step). Returns the
 * number of records removed. A missing file is left missing.
 */
export function truncateJsonLines<T>(file: string, keep: (rec: T) => boolean): number {
  if (!fs.existsSync(file)) return 0;
  const records = readJsonLines<T>(file);
  const kept = records.filter(keep);
  writeFileAtomic(file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  return records.length - kept.length;
}
