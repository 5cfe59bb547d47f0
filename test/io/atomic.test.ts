import assert from 'assert/strict';
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { writeFileAtomic } from '../../src/lib/io/atomic';
import { tempDir } from '../helpers';

describe('io/atomic: writeFileAtomic', () => {
  it('on a full disk it names the file and the fix, and leaves the previous file and no temp file', () => {
    const dir = tempDir('atomic-full-');
    const file = path.join(dir, 'run.json');
    writeFileAtomic(file, 'old\n');
    // The disk fills up while the new content is written (stubbed on the module object itself,
    // which the compiled import reads through).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object, to stub it
    const nodeFs = require('fs') as { writeFileSync: typeof fs.writeFileSync };
    const real = nodeFs.writeFileSync;
    nodeFs.writeFileSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    try {
      assert.throws(
        () => writeFileAtomic(file, 'new\n'),
        new RegExp(`No space left to write ${file.replace(/[/.]/g, '\\$&')} \\(ENOSPC: the disk or quota holding .* is full\\): free some space and run again`),
      );
    } finally {
      nodeFs.writeFileSync = real;
    }
    assert.equal(fs.readFileSync(file, 'utf8'), 'old\n');
    assert.deepEqual(fs.readdirSync(dir), ['run.json']);
  });

  it('on a real full disk (a 1 MiB tmpfs) too, where mounting one is allowed (root)', function () {
    const mount = tempDir('atomic-tmpfs-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount], { stdio: 'ignore' });
    } catch {
      this.skip(); // not root, or no mount in this container
    }
    try {
      const file = path.join(mount, 'model.safetensors');
      writeFileAtomic(file, new Uint8Array(600_000).fill(1));
      assert.throws(
        () => writeFileAtomic(file, new Uint8Array(600_000).fill(2)),
        /No space left to write .*model\.safetensors \(ENOSPC: .*previous file, if any, is unchanged/,
      );
      assert.equal(fs.readFileSync(file)[0], 1);
      assert.deepEqual(fs.readdirSync(mount), ['model.safetensors']);
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});
