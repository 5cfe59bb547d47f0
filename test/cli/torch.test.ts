// diffusion export --torch / import --torch from the command line: a PyTorch state dict imports
// into a run folder that sample takes, and exports back to the same tensors; mistakes are refused
// with the option, the value and the fix.
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { loadCheckpoint } from '../../src/lib/checkpoint';
import { NamedTensor, readSafetensorsFile, writeSafetensorsFile } from '../../src/lib/io/safetensors';
import { defaultTrainConfig } from '../../src/lib/train/config';
import { decodeNetworkFile } from '../../src/lib/train/network-file';
import { exportTorchUNet } from '../../src/lib/train/torch-unet';
import { RunMetadata } from '../../src/lib/train/trainer';
import { tempDir, useDefaultBackend } from '../helpers';
import { randomUNet } from '../train/torch-fixtures';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function cli(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, DIFFUSION_BACKEND: 'cpu' } });
  return { status: r.status, stderr: r.stderr };
}

function floatTensors(file: string): Record<string, NamedTensor> {
  const { tensors } = readSafetensorsFile(file);
  return Object.fromEntries(Object.entries(tensors).filter(([, t]) => t.dtype === 'F32'));
}

describe('diffusion export --torch / import --torch', function () {
  this.timeout(180_000);
  let dir: string;
  let torchFile: string;

  before(async () => {
    await useDefaultBackend();
    dir = tempDir('torch-cli');
    torchFile = path.join(dir, 'from-pytorch.safetensors');
    const model = randomUNet('time', 3, 9);
    const { tensors, metadata } = exportTorchUNet(model, { ...defaultTrainConfig('time'), hidden: 3, T: 20 });
    model.dispose();
    writeSafetensorsFile(torchFile, tensors, { ...metadata, source: 'as PyTorch would save it' });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('import into a run folder, sample from it, export it again: the same tensors', () => {
    const run = path.join(dir, 'run');
    let r = cli('import', '--torch', torchFile, '--out', run);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /imported .*: time UNet, D = 3/);
    const meta = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as RunMetadata;
    assert.equal(meta.kind, 'time');
    assert.equal(meta.config.T, 20, "the training config in the file's metadata is kept");
    assert.equal(meta.imported?.from, path.resolve(torchFile));
    assert.equal(readSafetensorsFile(path.join(run, 'model-epoch-001.safetensors')).metadata.layout, 'tfjs');

    r = cli('sample', '--run', run, '--n', '1', '--out', path.join(dir, 'samples.png'));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.statSync(path.join(dir, 'samples.png')).size > 0);

    const back = path.join(dir, 'back.safetensors');
    r = cli('export', '--torch', run, '--out', back);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote .*: time UNet, D = 3, \d+ parameters, PyTorch layout/);
    assert.deepEqual(floatTensors(back), floatTensors(torchFile));
    const { metadata } = readSafetensorsFile(back);
    assert.equal(metadata.layout, 'torch');
    assert.equal(metadata.epoch, '1');
    assert.ok(!fs.readdirSync(dir).some((f) => f.endsWith('.tmp')), 'no temporary files left');

    // A weights file of a run, as the trainer writes it (no config in it): the run's config goes along.
    const epochFile = path.join(run, 'model-epoch-001.safetensors');
    const { tensors, metadata: epochMeta } = readSafetensorsFile(epochFile);
    writeSafetensorsFile(epochFile, tensors, { epoch: epochMeta.epoch, configHash: epochMeta.configHash, layout: 'tfjs' });
    r = cli('export', '--torch', epochFile, '--out', back);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(readSafetensorsFile(back).metadata.config) as { T: number }).T, 20);
  });

  it('import into a .safetensors file gives a TF.js checkpoint, which exports back to the same tensors', () => {
    const ckpt = path.join(dir, 'imported.safetensors');
    assert.equal(cli('import', '--torch', torchFile, '--out', ckpt).status, 0);
    assert.equal(loadCheckpoint(ckpt).values.get('in_block.conv1.conv.weight')?.shape.join(','), '3,3,1,3');
    const back = path.join(dir, 'back2.safetensors');
    const r = cli('export', '--torch', ckpt, '--out', back);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(floatTensors(back), floatTensors(torchFile));
  });

  it("--torch-cascade: the shipped colour model's stage II exports to PyTorch and imports back to the same values", () => {
    const torchStage = path.join(dir, 'stage2-torch.safetensors');
    let r = cli('export', '--torch-cascade', 'stage2', '--out', torchStage);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote .*: cascade stage II, \d+ parameters, PyTorch layout/);
    const exported = readSafetensorsFile(torchStage);
    assert.equal(exported.metadata.layout, 'torch');
    assert.equal(JSON.parse(exported.metadata.config).kind, 'upsample');
    const back = path.join(dir, 'stage2-back.safetensors');
    r = cli('import', '--torch-cascade', torchStage, '--out', back);
    assert.equal(r.status, 0, r.stderr);
    const shippedFile = path.join(__dirname, '..', '..', '..', 'src', 'lib', 'pretrained', 'weights', 'emoji-stage2.safetensors');
    const shipped = decodeNetworkFile(fs.readFileSync(shippedFile), shippedFile).values;
    const imported = decodeNetworkFile(fs.readFileSync(back), back).values;
    assert.deepEqual([...imported.keys()].sort(), [...shipped.keys()].sort());
    for (const [name, v] of shipped) assert.deepEqual(imported.get(name)!.data, v.data, name);
  });

  it('refuses mistakes, naming the option or file and the fix', () => {
    const nonEmpty = path.join(dir, 'busy');
    fs.mkdirSync(nonEmpty);
    fs.writeFileSync(path.join(nonEmpty, 'notes.txt'), 'mine');
    const ckpt = path.join(dir, 'tfjs.safetensors');
    assert.equal(cli('import', '--torch', torchFile, '--out', ckpt).status, 0);
    const cases: Array<[string[], RegExp]> = [
      [['export', '--out', 'x.safetensors'], /--torch SOURCE, --torch-cascade SOURCE, --digits FILE or --emoji-data FILE is required/],
      [['export', '--digits', 'digits.bin'], /--digits digits\.bin: give a file name ending in \.safetensors/],
      [['export', '--digits', 'd.safetensors', '--out', 'x.safetensors'], /--digits FILE takes no --out or --epoch/],
      [
        ['export', '--digits', 'd.safetensors', '--torch', torchFile],
        /give one of --torch SOURCE, --torch-cascade SOURCE, --digits FILE and --emoji-data FILE/,
      ],
      [
        ['export', '--torch-cascade', 'stage3', '--out', path.join(dir, 'x.safetensors')],
        /--torch-cascade stage3: give stage1 or stage2 \(the shipped colour model\) or a network file/,
      ],
      [['export', '--torch-cascade', 'stage1', '--epoch', '2', '--out', path.join(dir, 'x.safetensors')], /--epoch is for Part B run folders/],
      [['import', '--out', 'x'], /--torch FILE, --torch-cascade FILE or --torch-run DIR is required/],
      [
        ['import', '--torch-cascade', torchFile, '--out', path.join(dir, 'folder')],
        /--torch-cascade needs --out FILE ending in \.safetensors \(the network file to write\) or --ship/,
      ],
      [['import', '--torch-cascade', torchFile, '--ship', '--out', path.join(dir, 'x.safetensors')], /give --out FILE or --ship, not both/],
      [['import', '--torch', torchFile, '--ship'], /--ship goes with --torch-cascade FILE/],
      [['import', '--torch-cascade', torchFile, '--out', path.join(dir, 'stage.safetensors')], /has no "config" in its metadata|is not a cascade stage/],
      [['import', '--torch-run', torchFile], /--torch-run .* is not a folder: give the --out folder of scripts\/train_partb_torch\.py/],
      [['import', '--torch-run', dir, '--torch', torchFile], /give one of --torch FILE, --torch-cascade FILE and --torch-run DIR/],
      [['export', '--torch', torchFile], /--out FILE is required/],
      [['export', '--torch', torchFile, '--out', dir], /--out .* is a folder: give a file name, e\.g\. .*model\.safetensors/],
      [
        ['export', '--torch', path.join(dir, 'nowhere'), '--out', 'x.safetensors'],
        /nowhere does not exist: give a training run folder \(with run\.json\) or a \.safetensors checkpoint/,
      ],
      [
        ['export', '--torch', torchFile, '--out', path.join(dir, 'x.safetensors')],
        /is already a PyTorch-layout file: PyTorch loads it as it is .*diffusion import --torch/,
      ],
      [['export', '--torch', ckpt, '--epoch', '2', '--out', path.join(dir, 'x.safetensors')], /--epoch picks the weights of a run folder/],
      [['export', '--torch', ckpt, '--epoch', '0', '--out', 'x.safetensors'], /--epoch must be an integer from 1 to 100000, got "0"/],
      [['import', '--torch', torchFile], /--out DEST is required/],
      [['import', '--torch', torchFile, '--out', nonEmpty], /--out .*busy already exists and is not an empty folder/],
      [['import', '--torch', ckpt, '--out', path.join(dir, 'again.safetensors')], /is already in this project's TF\.js layout.*load it directly/],
      [['import', '--torch', dir, '--out', path.join(dir, 'y')], /is not a file: give a \.safetensors PyTorch state dict/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'an error message, not a stack trace');
    }
    assert.deepEqual(fs.readdirSync(nonEmpty), ['notes.txt'], 'a refused import writes nothing');
  });
});
