import * as fs from 'fs';
import * as path from 'path';
import { processAlive } from './atomic';

/**
 * A lock file for work that must not run twice at once (a report build): created atomically
 * with the owner's pid and start time; a lock whose process no longer runs is taken over.
 * Returns the release function.
 */
export function acquireLock(file: string, what: string): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }) + '\n', { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: { pid?: number; startedAt?: string } = {};
    try {
      owner = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof owner;
    } catch {
      // Half-written or unreadable: treated as stale below.
    }
    if (owner.pid !== undefined && processAlive(owner.pid)) {
      throw new Error(
        `Another ${what} is running (pid ${owner.pid}, started ${owner.startedAt ?? 'at an unknown time'}): wait for it to finish, ` +
          `or stop it (kill ${owner.pid}). Lock file: ${file}`,
      );
    }
    fs.rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new Error(`Could not take the lock ${file}: another process keeps creating it; try again.`);
}
