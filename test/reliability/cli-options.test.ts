// The command line refuses bad options before any work starts, with a message naming the option,
// what it takes and what it got (found by a campaign of hostile-but-fair calls).
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { saveCheckpointSync } from '../../src/lib/checkpoint';
import { trainConfigFor } from '../../src/writeup/profiles';
import { createModel } from '../../src/lib/train/networks';
import { tempDir, useDefaultBackend } from '../helpers';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function cli(...args: string[]): { status: number | null; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('reliability: command-line options are checked up front', function () {
  this.timeout(120_000);
  before(useDefaultBackend);

  const cases: Array<[string[], RegExp]> = [
    [['train', 'time', '--epochs', '99999999999999999999'], /--epochs must be an integer from 1 to 100000, got "99999999999999999999"/],
    [['train', 'time', '--epochs', '-3'], /--epochs must be an integer from 1 to 100000, got "-3"/],
    [['train', 'time', '--lr', '-0.1'], /--lr must be a number from 1e-12 to 10, got "-0.1"/],
    [['train', 'time', '--micro-batch', '0'], /--micro-batch must be an integer from 1 to 65536, got "0"/],
    [['train', 'time', 'class'], /too many arguments for 'train'\. Expected 1 argument but got 2/],
    [['sample', '--run', 'x', 'extra'], /too many arguments for 'sample'/],
    [['evaluate', '--run', 'nowhere', '--samples-per-class', '0'], /--samples-per-class must be an integer from 1 to 10000, got "0"/],
    [['pretrain', '--export-only'], /--export-only exports an existing run: give its folder with --out DIR/],
    [['evaluate', 'emoji', '--weights', 'nowhere.safetensors'], /--weights nowhere\.safetensors is not a file: give a stage I network file/],
    [['evaluate', 'emoji', '--weights', 'w.safetensors', '--run', 'r'], /give --run DIR or --weights FILE, not both/],
    [['frobnicate'], /unknown command 'frobnicate'\n\(diffusion --help lists the commands/],
    [['train', 'dog'], /value 'dog' is invalid for argument 'kind'\. Allowed choices are denoiser, time, class, all/],
    [['train', 'time', '--profile', 'fast'], /argument 'fast' is invalid\. Allowed choices are full, quick, smoke/],
    [['sample'], /required option '--run <dir>' not specified/],
    [['serve', '--port', '70000'], /--port must be an integer from 0 to 65535, got "70000"/],
    [['bench', '--steps', '0'], /--steps must be an integer from 1 to 10000, got "0"/],
    [['train', 'time', '--epochs', '0x2'], /--epochs must be an integer from 1 to 100000, got "0x2"/],
    [['train', 'time', '--lr', '0b1'], /--lr must be a number from 1e-12 to 10, got "0b1"/],
    [['train', 'time', '--epochs', '2', '--epochs', '3'], /--epochs is given more than once: give it once/],
    [['sample', '--run', 'x', '--seed=1', '--seed', '2'], /--seed is given more than once/],
    [['sample', '--run', 'x', '--out', 'samples.jpg'], /--out samples\.jpg: the samples are written as a PNG, so give a name ending in \.png/],
    [['sample', '--run', 'x', '--gif', 'sampling.mp4'], /--gif sampling\.mp4: the animation is written as a GIF, so give a name ending in \.gif/],
  ];
  for (const [args, message] of cases) {
    it(`diffusion ${args.join(' ')}`, () => {
      const r = cli(...args);
      assert.equal(r.status, 2, 'a usage error exits 2');
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'a usage error, not a stack trace');
    });
  }

  it('sample --gif naming a folder says to give a file name', () => {
    const dir = tempDir('gif-dir-');
    const r = cli('sample', '--run', dir, '--gif', dir);
    assert.ok(r.stderr.includes(`--gif ${dir} is a folder: give a file name`), r.stderr);
  });

  it('sample: --n is for time-conditioned runs and --per-class for class-conditioned ones, and each says so', () => {
    for (const [kind, wrong, right] of [
      ['class', '--n', '--per-class'],
      ['time', '--per-class', '--n'],
    ]) {
      const dir = tempDir(`count-${kind}-`);
      // A run folder of that kind: run.json and the weights of epoch 1 of a tiny model.
      const config = trainConfigFor(kind as 'class' | 'time', 'smoke', { epochs: 1 });
      const model = createModel(config);
      saveCheckpointSync(path.join(dir, 'model-epoch-001.safetensors'), model.stateEntries(), { epoch: '1' });
      model.dispose();
      fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ kind, config, epochsDone: 1, epochs: [] }));
      const r = cli('sample', '--run', dir, wrong, '3');
      assert.notEqual(r.status, 0);
      assert.ok(r.stderr.includes(`${wrong} does not apply to ${dir}, a ${kind} run: it takes ${right} N`), r.stderr);
    }
  });

  it("--steps beyond the run's T is a usage error naming T, for sample and evaluate", () => {
    const dir = tempDir('steps-');
    const config = trainConfigFor('time', 'smoke', { epochs: 1 });
    const model = createModel(config);
    saveCheckpointSync(path.join(dir, 'model-epoch-001.safetensors'), model.stateEntries(), { epoch: '1' });
    model.dispose();
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ kind: 'time', config, epochsDone: 1, epochs: [] }));
    for (const command of ['sample', 'evaluate']) {
      const r = cli(command, '--run', dir, '--steps', String(config.T + 1));
      assert.equal(r.status, 2, r.stderr);
      assert.ok(r.stderr.includes(`--steps ${config.T + 1}: this run's schedule has T = ${config.T} timesteps, so give 1 to ${config.T}.`), r.stderr);
    }
  });

  it('a run.json of the wrong shape or config is named with the field, and a file is not taken for a folder', () => {
    const config = trainConfigFor('time', 'smoke', { epochs: 1 });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ kind: 'time', config, epochsDone: 1, epochs: 'none' }, /run\.json: "epochs" must be a list of epoch records, got "none": delete it and train again/],
      [
        { kind: 'time', config: { ...config, seed: '3' }, epochsDone: 1, epochs: [] },
        /run\.json: Invalid training config for "time": seed must be a non-negative integer, got 3/,
      ],
    ];
    for (const [meta, message] of cases) {
      const dir = tempDir('shape-run-');
      fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(meta));
      const r = cli('sample', '--run', dir);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
    }
    const file = path.join(tempDir('a-file-'), 'passwd');
    fs.writeFileSync(file, 'root:x:0:0\n');
    assert.match(
      cli('train', 'time', '--profile', 'smoke', '--data-dir', file).stderr,
      /passwd is a file, not a dataset folder: give the folder that holds the IDX files/,
    );
    assert.match(
      cli('train', 'time', '--profile', 'smoke', '--no-download', '--out', file).stderr,
      /The run folder .*passwd is a file: give a folder for the run's files/,
    );
  });

  it('an invalid run.json is named in the error', () => {
    const dir = tempDir('bad-run-');
    fs.writeFileSync(path.join(dir, 'run.json'), '{ not json');
    const r = cli('sample', '--run', dir);
    assert.ok(r.stderr.includes(`${path.join(dir, 'run.json')} is not valid JSON`), r.stderr);
  });
});
