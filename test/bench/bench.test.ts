import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../helpers';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('npm run bench', function () {
  this.timeout(120000);

  it('--hidden and --batch bench those widths and write the figures with --json', () => {
    const json = path.join(tempDir('bench'), 'bench.json');
    const run = spawnSync(
      process.execPath,
      [CLI, 'bench', '--models', 'denoiser', '--hidden', '4,8', '--batch', '6', '--steps', '1', '--workers', '0', '--json', json],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /train img\/s/);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as { results: Array<Record<string, number | string>> };
    assert.deepEqual(
      report.results.map((r) => [r.kind, r.size, r.hidden, r.batchSize, r.workers, r.sampleWorkers]),
      [
        ['denoiser', 'custom', 4, 6, 0, 0],
        ['denoiser', 'custom', 8, 6, 0, 0],
      ],
    );
    for (const r of report.results) {
      for (const k of ['trainImagesPerSec', 'trainImagesPerCpuSec', 'sampleImagesPerSec', 'peakRssMB']) {
        assert.ok(typeof r[k] === 'number' && (r[k] as number) > 0, `${k} = ${r[k]}`);
      }
      assert.equal(r.backend, 'wasm');
    }
  });

  it('a bad width is a clear error', () => {
    const run = spawnSync(process.execPath, [CLI, 'bench', '--hidden', 'wide'], { encoding: 'utf8' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /--hidden: "wide" is not a width/);
  });
});
