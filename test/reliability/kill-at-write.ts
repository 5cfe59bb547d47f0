// For child processes of the kill tests: die (SIGKILL) at the Nth atomic write of a file called
// NAME, after its temporary file is written and before the rename, as a crash or kill -9 would.
import * as path from 'path';
import { setBeforeRenameHook } from '../../src/lib/io/atomic';

export function killAtWrite(name: string, n: number): void {
  let seen = 0;
  setBeforeRenameHook((file) => {
    if (path.basename(file) === name && ++seen === n) process.kill(process.pid, 'SIGKILL');
  });
}
