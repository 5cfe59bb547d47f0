import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { removeLeftoversOfDeadProcesses } from './atomic';

/**
 * Folders replaced as a whole (the site, each notebook's figures): the new content
 * is written into a staging folder beside the target, then swapped in, so a reader or a crash
 * sees the old folder or the new one, never a mix. The names carry the writing process's id, so
 * what a killed process left behind can be told from the work of a live one.
 */

/** A new, empty staging folder beside `target`: .NAME.build-PID-RANDOM. */
export function makeStagingFolder(target: string): string {
  const dir = path.join(path.dirname(target), `.${path.basename(target)}.build-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Puts `staging` in place of `target`: the old target is set aside, the staging folder renamed in,
 * the old one deleted. If the rename fails, the old target is put back and the error names it.
 */
export function replaceFolder(staging: string, target: string): void {
  const aside = path.join(path.dirname(target), `.${path.basename(target)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, aside);
  try {
    fs.renameSync(staging, target);
  } catch (err) {
    if (hadOld) fs.renameSync(aside, target);
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(`Could not move the new ${target} into place: ${(err as Error).message}. The previous ${target} is unchanged.`, { cause: err });
  }
  if (hadOld) fs.rmSync(aside, { recursive: true, force: true });
}

/**
 * Deletes the staging and set-aside folders beside `target` whose process is gone. A set-aside
 * copy is kept while `target` itself is missing: it is then the only copy. Returns their names.
 */
export function removeDeadStagingFolders(target: string): string[] {
  const parent = path.dirname(target);
  const name = path.basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const keepAside = !fs.existsSync(target);
  return removeLeftoversOfDeadProcesses(parent, new RegExp(`^\\.${name}\\.(?:build|old)-(\\d+)-[0-9a-f]+$`), (entry) => keepAside && entry.includes('.old-'));
}
