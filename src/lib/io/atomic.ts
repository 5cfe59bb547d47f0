import * as fs from 'fs';
import * as path from 'path';

/**
 * Called in writeFileAtomic after the temporary file is written and before the rename: the one
 * place a crash leaves a temporary file and the previous target. Tests install a hook that
 * kills the process there (test/reliability/kill-at-write.ts) instead of relying on timing;
 * nothing else sets it.
 */
let beforeRename: ((file: string) => void) | null = null;

export function setBeforeRenameHook(hook: ((file: string) => void) | null): void {
  beforeRename = hook;
}

/**
 * Writes a file so that readers see either the old content or the new, never half of it:
 * the bytes go to a temporary file in the same folder, which is then renamed over the target.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    beforeRename?.(file);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new Error(
        `No space left to write ${file} (${code}: the disk or quota holding ${dir} is full): free some space and run again. ` +
          'Nothing was half-written: the previous file, if any, is unchanged.',
        { cause: err },
      );
    }
    throw err;
  }
}

/** A temporary file of writeFileAtomic: .NAME.PID.TIME.tmp */
const TEMP_FILE = /^\..+\.(\d+)\.\d+\.tmp$/;

/** Whether a process with this id runs (on this machine). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the entries of `dir` whose name matches `pattern` (its first group is a process id)
 * and whose process no longer runs: what killed processes left behind, except those `keep`
 * spares. Returns their names.
 */
export function removeLeftoversOfDeadProcesses(dir: string, pattern: RegExp, keep: (name: string) => boolean = () => false): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = pattern.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1])) || keep(name)) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** The temporary files that writes killed half-way left in `dir`. Call it where work starts in a folder. */
export function removeStaleTempFiles(dir: string): string[] {
  return removeLeftoversOfDeadProcesses(dir, TEMP_FILE);
}
