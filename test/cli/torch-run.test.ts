// The GPU path for Part B's full recipe, run here on the CPU at a tiny size: diffusion export
// --digits, scripts/train_partb_torch.py, diffusion import --torch-run, and then `train` with the
// same recipe reuses the imported run instead of training. Needs Debian's python3-torch (skips
// without it, except where DIFFUSION_REQUIRE_TORCH=1, as in CI).
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readSafetensorsFile } from '../../src/lib/io/safetensors';
import { LossRecord, RunMetadata } from '../../src/lib/train/trainer';
import { tempDir } from '../helpers';

const ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const PYTHON = process.env.DIFFUSION_TORCH_PYTHON ?? '/usr/bin/python3';
const TRAINER = path.join(ROOT, 'scripts', 'train_partb_torch.py');
/** A recipe small enough for two CPU cores: SPEC's, but D = 4, 2 epochs, batches of 1024. */
const RECIPE = ['--hidden', '4', '--epochs', '2', '--batch', '1024'];

describe('the GPU path for full: export --digits, scripts/train_partb_torch.py, import --torch-run', function () {
  this.timeout(300_000);
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--no-download'], { encoding: 'utf8', env, timeout: 180_000 });

  before(function () {
    const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      const missing = `PyTorch is not importable by ${PYTHON}; install it with: apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread`;
      if (process.env.DIFFUSION_REQUIRE_TORCH === '1') throw new Error(`DIFFUSION_REQUIRE_TORCH=1 but ${missing}`);
      process.stderr.write(`    skipping: ${missing}\n`);
      this.skip();
    }
    dir = tempDir('torch-run-');
    env = { ...process.env, DIFFUSION_OUTPUTS: path.join(dir, 'outputs') };
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('trains in PyTorch, imports as the run train would write, and train reuses it', () => {
    const digits = path.join(dir, 'digits.safetensors');
    let r = cli('export', '--digits', digits);
    assert.equal(r.status, 0, r.stderr);
    const { tensors, metadata } = readSafetensorsFile(digits);
    assert.deepEqual([tensors.images.dtype, tensors.images.shape, tensors.labels.shape], ['U8', [8495, 28, 28], [8495]]);
    assert.match(metadata.dataSha256, /^[0-9a-f]{64}$/);

    const torchRun = path.join(dir, 'torch');
    const py = spawnSync(PYTHON, [TRAINER, '--kind', 'class', '--data', digits, '--out', torchRun, ...RECIPE, '--threads', '2'], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    assert.match(py.stderr, /epoch 2\/2: mean loss/);

    r = cli('import', '--torch-run', torchRun);
    assert.equal(r.status, 0, r.stderr);
    const run = /into the run folder (\S+):/.exec(r.stderr)?.[1];
    assert.ok(run && fs.existsSync(run), r.stderr);
    const meta = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as RunMetadata;
    assert.deepEqual([meta.kind, meta.status, meta.epochsDone, meta.steps, meta.config.hidden, meta.config.pUncond], ['class', 'complete', 2, 18, 4, 0.1]);
    assert.match(meta.imported?.trainedOn ?? '', /^PyTorch .* on cpu$/);
    const log = fs
      .readFileSync(path.join(run, 'loss.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LossRecord);
    assert.deepEqual([log.length, log[0].step, log[17].epoch], [18, 1, 2]);
    assert.ok(log[17].loss < log[0].loss, `the loss fell: ${log[0].loss} -> ${log[17].loss}`);
    assert.equal(readSafetensorsFile(path.join(run, 'model-epoch-002.safetensors')).metadata.layout, 'tfjs');

    // The same recipe and data: train finds the imported run and trains nothing.
    r = cli('train', 'class', '--profile', 'full', '--hidden', '4', '--epochs', '2', '--batch', '1024');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /class: already complete, reused; final epoch mean loss/);
    assert.equal(fs.existsSync(path.join(run, 'checkpoint.safetensors')), false);

    // Refused: the same folder again, a folder that is no finished run, digits that are not these.
    r = cli('import', '--torch-run', torchRun);
    assert.match(r.stderr, /already exists and is not an empty folder: delete it to replace that run/);
    r = cli('import', '--torch-run', dir, '--out', path.join(dir, 'other'));
    assert.match(r.stderr, /has no torch-run\.json: it is not a finished run of scripts\/train_partb_torch\.py/);
    const record = path.join(torchRun, 'torch-run.json');
    fs.writeFileSync(record, fs.readFileSync(record, 'utf8').replace(/"count": 8495/, '"count": 60000'));
    r = cli('import', '--torch-run', torchRun, '--out', path.join(dir, 'other'));
    assert.match(r.stderr, /trained on 60000 digits .* but this data is 8495 digits/);
    assert.equal(fs.existsSync(path.join(dir, 'other')), false, 'nothing half-imported');
  });
});
