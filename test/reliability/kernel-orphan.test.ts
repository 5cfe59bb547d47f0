// A report builder killed with -9 while a cell runs used to leave its kernel running the cell to
// the end and its /tmp/diffusion-kernel-* folder behind. The kernel's watchdog cleans up both.
import assert from 'assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { processAlive } from '../../src/lib/io/atomic';

const DIST = path.join(__dirname, '..', '..');
const ROOT = path.join(DIST, '..');
const BUILDER = `
const { KernelClient } = require(${JSON.stringify(path.join(DIST, 'src/report/kernel-client'))});
(async () => {
  const kernel = await KernelClient.start({ cwd: ${JSON.stringify(ROOT)} });
  console.log(JSON.stringify({ pid: kernel.pid, dir: kernel.connectionFolder }));
  // A cell of long synchronous work: the kernel's own timers cannot run meanwhile.
  await kernel.execute('const t0 = Date.now(); while (Date.now() - t0 < 60000) {}', 120000);
})();
`;

/** Running (a zombie waiting for a reaper does not count: the container's init may be slow to reap). */
function running(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(test: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (test()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return test();
}

describe('reliability: a killed report builder leaves no kernel behind', function () {
  this.timeout(120_000);

  it('kills the kernel mid-cell and removes its connection folder', async () => {
    const builder = spawn(process.execPath, ['-e', BUILDER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      builder.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      builder.on('exit', (code) => reject(new Error(`the builder exited (${code}) before starting its kernel`)));
    });
    const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
    assert.ok(running(pid) && fs.existsSync(dir));
    await new Promise((r) => setTimeout(r, 1500)); // the cell is running
    builder.kill('SIGKILL');
    assert.ok(await waitFor(() => !running(pid), 10_000), `kernel ${pid} outlived its builder`);
    assert.ok(await waitFor(() => !fs.existsSync(dir), 5_000), `${dir} was left behind`);
  });
});
