import assert from 'assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { acquireLock } from '../../src/lib/io/lock';
import { buildReport } from '../../src/report/build';
import { OUTPUTS_ENV_VAR, outputsPath } from '../../src/lib/io/outputs';
import { tempDir } from '../helpers';

describe('reliability: one report build at a time', () => {
  it('a second build is refused with the pid of the one running; a stale lock is taken over', async () => {
    const saved = process.env[OUTPUTS_ENV_VAR];
    process.env[OUTPUTS_ENV_VAR] = tempDir('lock-outputs-');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const lock = outputsPath('report.lock');
      fs.writeFileSync(lock, JSON.stringify({ pid: other.pid, startedAt: '2026-12-04T05:00:00.000Z' }));
      const site = path.join(tempDir('lock-site-'), 'site');
      await assert.rejects(
        buildReport({ profile: 'smoke', seed: 0, siteDir: site, log: () => {} }),
        new RegExp(`Another \`npm run report\` is running \\(pid ${other.pid}, started 2026-12-04T05:00:00.000Z\\): wait for it to finish, or stop it \\(kill ${other.pid}\\)`),
      );
      assert.ok(!fs.existsSync(site), 'nothing was built');
      // Its process gone, the lock is stale.
      fs.writeFileSync(lock, JSON.stringify({ pid: 999999999 }));
      const release = acquireLock(lock, 'test');
      assert.equal(JSON.parse(fs.readFileSync(lock, 'utf8')).pid, process.pid);
      assert.throws(() => acquireLock(lock, 'test'), /Another test is running/);
      release();
      assert.ok(!fs.existsSync(lock));
    } finally {
      other.kill();
      if (saved === undefined) delete process.env[OUTPUTS_ENV_VAR];
      else process.env[OUTPUTS_ENV_VAR] = saved;
    }
  });
});
