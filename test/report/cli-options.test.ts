// The report's options that need no notebook to run: parameters checked against the notebooks'
// parameters cells, render-only builds, the hide-input tag.
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { buildReport } from '../../src/report/build';
import { renderNotebook } from '../../src/report/render';
import { tempDir } from '../helpers';

const CLI = path.join(__dirname, '..', '..', 'src', 'report', 'cli.js');

describe('report options', function () {
  this.timeout(60_000);

  it('-p sets a declared parameter; an undeclared name or a malformed pair is refused before anything runs', () => {
    const out = path.join(tempDir('report-p-'), 'site');
    const unknown = spawnSync(process.execPath, [CLI, '-p', 'learningrate=3', '--out', out], { encoding: 'utf8' });
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /No notebook declares a parameter "learningrate" in its parameters cell\. Declared: .*retrain/);
    const malformed = spawnSync(process.execPath, [CLI, '-p', 'retrain', '--out', out], { encoding: 'utf8' });
    assert.match(malformed.stderr, /-p takes name=value \(e\.g\. -p retrain=true\), got "retrain"/);
    const seed = spawnSync(process.execPath, [CLI, '-p', 'seed=3', '--out', out], { encoding: 'utf8' });
    assert.match(seed.stderr, /Set seed with --seed, not as a parameter/);
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    for (const flag of ['--param', '--no-execute', '--pdf-only', '--trust-notebook-html', '--only', '--force']) assert.ok(help.stdout.includes(flag), flag);
  });

  it('--no-execute renders from executed copies only, and names a notebook that has none', async () => {
    const root = tempDir('report-noexec-');
    await assert.rejects(
      buildReport({ profile: 'smoke', seed: 0, siteDir: path.join(root, 'site'), cacheDir: path.join(root, 'executed'), noExecute: true, log: () => {} }),
      /--no-execute: a0-sampling has no executed copy in .*executed\/; build once without --no-execute first/,
    );
  });

  it('hide-input keeps a cell\'s code collapsed even when it also says show-input', async () => {
    const nb = (tags: string[]) => ({
      nbformat: 4, nbformat_minor: 5, metadata: {},
      cells: [{ cell_type: 'code', metadata: { tags }, execution_count: 1, source: 'x = 1', outputs: [] }],
    });
    assert.match((await renderNotebook(nb(['show-input']) as never, { name: 'a' })).html, /<details class="code" open>/);
    assert.doesNotMatch((await renderNotebook(nb(['show-input', 'hide-input']) as never, { name: 'b' })).html, /<details class="code" open>/);
  });
});
