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
        new RegExp(
          `Another \`npm run report\` is running \\(pid ${other.pid}, started 2026-12-04T05:00:00.000Z\\): wait for it to finish, or stop it \\(kill ${other.pid}\\)`,
        ),
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

  it('processes racing for a stale lock: exactly one holds it every time', async function () {
    this.timeout(120_000);
    const racer = `
      const fs = require('fs');
      const { acquireLock } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'lib', 'io', 'lock.js'))});
      const [file, log, startAt] = process.argv.slice(1);
      while (Date.now() < Number(startAt)) {}
      try {
        const release = acquireLock(file, 'race');
        fs.appendFileSync(log, 'won\\n');
        const until = Date.now() + 400;
        while (Date.now() < until) {}
        release();
      } catch (err) {
        fs.appendFileSync(log, /Another race is running/.test(err.message) ? 'lost\\n' : 'error ' + err.message + '\\n');
      }`;
    const dir = tempDir('lock-race-');
    for (let trial = 0; trial < 6; trial++) {
      const file = path.join(dir, `race-${trial}.lock`);
      // Stale: a dead process's lock (odd trials: an empty file, as a process killed while writing one would leave).
      fs.writeFileSync(file, trial % 2 === 0 ? JSON.stringify({ pid: 999999999 }) : '');
      const log = path.join(dir, `race-${trial}.log`);
      const startAt = String(Date.now() + 1500);
      await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            new Promise<void>((resolve) => {
              spawn(process.execPath, ['-e', racer, file, log, startAt], { stdio: 'ignore' }).on('exit', () => resolve());
            }),
        ),
      );
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n').sort();
      assert.deepEqual(lines, ['lost', 'lost', 'lost', 'lost', 'lost', 'won'], `trial ${trial}: ${lines.join(', ')}`);
      assert.ok(!fs.existsSync(file), 'the winner released it');
      assert.deepEqual(
        fs.readdirSync(dir).filter((n) => n.startsWith(`race-${trial}.lock.`)),
        [],
        'no temp file or mutex left',
      );
    }
  });
});
