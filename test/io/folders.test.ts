import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeStagingFolder, removeDeadStagingFolders, replaceFolder } from '../../src/lib/io/folders';
import { tempDir } from '../helpers';

describe('io/folders: folders replaced as a whole', () => {
  it('swaps a staging folder in for the target, old content gone, nothing left beside it', () => {
    const root = tempDir('folders-swap-');
    const target = path.join(root, 'site');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'old.txt'), 'old');
    const staging = makeStagingFolder(target);
    assert.match(path.basename(staging), new RegExp(`^\\.site\\.build-${process.pid}-[0-9a-f]{8}$`));
    fs.writeFileSync(path.join(staging, 'new.txt'), 'new');
    replaceFolder(staging, target);
    assert.deepEqual(fs.readdirSync(target), ['new.txt']);
    assert.deepEqual(fs.readdirSync(root), ['site']);
  });

  it('puts the old target back when the new one cannot be moved in', () => {
    const root = tempDir('folders-fail-');
    const target = path.join(root, 'site');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'old.txt'), 'old');
    assert.throws(
      () => replaceFolder(path.join(root, 'missing-staging'), target),
      /Could not move the new .*site into place: .*The previous .*site is unchanged/,
    );
    assert.deepEqual(fs.readdirSync(target), ['old.txt']);
    assert.deepEqual(fs.readdirSync(root), ['site']);
  });

  it("removes dead processes' staging and set-aside folders, keeping a live one's, and a set-aside copy when it is the only one", () => {
    const root = tempDir('folders-dead-');
    const target = path.join(root, 'figures');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    for (const name of [
      `.figures.build-${dead}-0badf00d`,
      `.figures.old-${dead}-0badf00d`,
      `.figures.build-${process.pid}-12345678`,
      '.other.build-1-00000000',
    ]) {
      fs.mkdirSync(path.join(root, name));
    }
    // No target: the dead process's set-aside copy is all there is, so it stays.
    assert.deepEqual(removeDeadStagingFolders(target), [`.figures.build-${dead}-0badf00d`]);
    fs.mkdirSync(target);
    assert.deepEqual(removeDeadStagingFolders(target), [`.figures.old-${dead}-0badf00d`]);
    assert.deepEqual(fs.readdirSync(root).sort(), [`.figures.build-${process.pid}-12345678`, '.other.build-1-00000000', 'figures'].sort());
  });
});
