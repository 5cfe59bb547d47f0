import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { processAlive } from './atomic';

interface LockOwner {
  pid?: number;
  startedAt?: string;
  /** Unique per acquisition, so a release removes its own lock and no other. */
  token?: string;
}

/** A takeover mutex older than this was left by a process that died inside it (it is held for milliseconds). */
const STALE_TAKEOVER_MS = 10_000;

/**
 * A lock file for work that must not run twice at once (a report build). Exactly one of several
 * processes racing for it wins:
 *  - it is created whole and atomically: the owner's record is written to a temporary file that
 *    is then hard-linked to the lock's name, which fails if the name exists (so no reader ever
 *    sees a half-written lock);
 *  - a lock whose process no longer runs is taken over under a short takeover mutex (a folder,
 *    created atomically): only its holder may delete the lock, after reading it again, so a lock
 *    just created by another process is never deleted as stale.
 * Returns the release function, which removes the lock only if it is still this acquisition's.
 */
export function acquireLock(file: string, what: string): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockOwner = { pid: process.pid, startedAt: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const release = () => {
    if (readOwner(file)?.token === me.token) fs.rmSync(file, { force: true });
  };
  const mutex = `${file}.takeover`;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusive(file, me)) return release;
    const owner = readOwner(file);
    if (owner === undefined) continue; // released in between: try again
    if (ownerAlive(owner)) {
      throw new Error(
        `Another ${what} is running (pid ${owner.pid}, started ${owner.startedAt ?? 'at an unknown time'}): wait for it to finish, ` +
          `or stop it (kill ${owner.pid}). Lock file: ${file}`,
      );
    }
    // Stale (its process is gone, or it is unreadable): take it over under the mutex.
    try {
      fs.mkdirSync(mutex);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      removeIfOlder(mutex, STALE_TAKEOVER_MS);
      sleep(5 + Math.random() * 20);
      continue;
    }
    try {
      // Only the mutex holder deletes a lock, so the lock read again here is the one deleted.
      const again = readOwner(file);
      if (again !== undefined && !ownerAlive(again)) fs.rmSync(file, { force: true });
      if (createExclusive(file, me)) return release;
    } finally {
      fs.rmSync(mutex, { recursive: true, force: true });
    }
  }
  throw new Error(`Could not take the lock ${file}: other processes keep taking it; try again.`);
}

/** Whether the process that wrote a lock still runs (an unreadable lock has none). */
function ownerAlive(owner: LockOwner | null): owner is LockOwner & { pid: number } {
  return owner?.pid !== undefined && processAlive(owner.pid);
}

/** Creates `file` holding `owner` if it does not exist, atomically and whole; false if it exists. */
function createExclusive(file: string, owner: LockOwner): boolean {
  const temp = `${file}.${process.pid}.${owner.token}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(owner) + '\n');
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** The lock's owner; null when the file is unreadable (damaged: stale); undefined when it is gone. */
function readOwner(file: string): LockOwner | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as LockOwner;
  } catch {
    return null;
  }
}

function removeIfOlder(dir: string, ms: number): void {
  try {
    if (Date.now() - fs.statSync(dir).mtimeMs > ms) fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // gone already
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
