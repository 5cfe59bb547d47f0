// The command line refuses bad options before any work starts, with a message naming the option,
// what it takes and what it got (found by a campaign of hostile-but-fair calls).
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../helpers';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function cli(...args: string[]): { status: number | null; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('reliability: command-line options are checked up front', function () {
  this.timeout(120_000);

  const cases: Array<[string[], RegExp]> = [
    [['train', 'time', '--epochs', '99999999999999999999'], /--epochs must be an integer from 1 to 100000, got "99999999999999999999"/],
    [['train', 'time', '--epochs', '-3'], /--epochs must be an integer from 1 to 100000, got "-3"/],
    [['train', 'time', '--lr', '-0.1'], /--lr must be a number from 1e-12 to 10, got "-0.1"/],
    [['train', 'time', '--micro-batch', '0'], /--micro-batch must be an integer from 1 to 65536, got "0"/],
    [['train', 'time', 'class'], /Unexpected argument\(s\): class/],
    [['sample', '--run', 'x', 'extra'], /Unexpected argument\(s\): extra/],
    [['evaluate', '--run', 'nowhere', '--samples-per-class', '0'], /--samples-per-class must be an integer from 1 to 10000, got "0"/],
    [['pretrain', '--export-only'], /--export-only exports an existing run: give its folder with --out DIR/],
    [['frobnicate'], /Commands: train, sample, evaluate, bench, partb, pretrain/],
  ];
  for (const [args, message] of cases) {
    it(`diffusion ${args.join(' ')}`, () => {
      const r = cli(...args);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'a usage error, not a stack trace');
    });
  }

  it('sample --gif naming a folder says to give a file name', () => {
    const dir = tempDir('gif-dir-');
    const r = cli('sample', '--run', dir, '--gif', dir);
    assert.ok(r.stderr.includes(`--gif ${dir} is a folder: give a file name`), r.stderr);
  });

  it('an invalid run.json is named in the error', () => {
    const dir = tempDir('bad-run-');
    fs.writeFileSync(path.join(dir, 'run.json'), '{ not json');
    const r = cli('sample', '--run', dir);
    assert.ok(r.stderr.includes(`${path.join(dir, 'run.json')} is not valid JSON`), r.stderr);
  });
});
