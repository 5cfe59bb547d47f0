// The PyTorch side (scripts/torch_unets.py) runs the exported weights and gives this project's
// outputs; a state dict PyTorch trained imports here and gives PyTorch's outputs. Needs Debian's
// python3-torch (.ci/run installs it); without it the tests skip, saying why, except where
// DIFFUSION_REQUIRE_TORCH=1 (CI), where a missing PyTorch is a failure.
import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { readSafetensorsFile, toFloat32, writeSafetensorsFile } from '../../src/lib/io/safetensors';
import { defaultTrainConfig, ModelKind } from '../../src/lib/train/config';
import { exportTorchUNet, importTorchUNet } from '../../src/lib/train/torch-unet';
import { tempDir, useDefaultBackend } from '../helpers';
import { forwardData, KINDS, maxAbsDiff, randomUNet, runPython, skipWithoutTorch, torchInputs, unetInputs } from './torch-fixtures';

const SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'torch_unets.py');
/**
 * float32 sums in another order (PyTorch's kernels vs TF.js's). Measured: at most 6e-7 on outputs
 * of size 0.04 to 0.8; a transposed conv kernel read with kh and kw swapped gives 7e-5 to 1e-3.
 */
const TOLERANCE = 1e-5;

const python = (args: string[]) => runPython(SCRIPT, args);

function outputOf(file: string): Float32Array {
  const y = readSafetensorsFile(file).tensors.y;
  assert.ok(y, `${file} has no tensor "y"`);
  return toFloat32(y);
}

describe('PyTorch interop (scripts/torch_unets.py)', function () {
  this.timeout(120_000);
  let dir: string;

  before(async function () {
    skipWithoutTorch(this, 'the PyTorch interop tests');
    await useDefaultBackend();
    dir = tempDir('torch-interop');
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`exported weights give the same outputs in PyTorch, all three kinds (max |diff| <= ${TOLERANCE})`, async () => {
    const triples: string[] = [];
    const expected = new Map<ModelKind, Float32Array>();
    for (const [i, kind] of KINDS.entries()) {
      const model = randomUNet(kind, 6, 10 + i);
      const inputs = unetInputs(3, 20 + i);
      expected.set(kind, forwardData(model, inputs));
      const file = exportTorchUNet(model, { ...defaultTrainConfig(kind), hidden: 6 });
      writeSafetensorsFile(path.join(dir, `${kind}.safetensors`), file.tensors, file.metadata);
      writeSafetensorsFile(path.join(dir, `${kind}-inputs.safetensors`), torchInputs(kind, inputs));
      triples.push(...['', '-inputs', '-torch-out'].map((s) => path.join(dir, `${kind}${s}.safetensors`)));
      model.dispose();
    }
    await python(['forward', ...triples]);
    for (const kind of KINDS) {
      const diff = maxAbsDiff(outputOf(path.join(dir, `${kind}-torch-out.safetensors`)), expected.get(kind)!);
      process.stderr.write(`      ${kind}: TF.js vs PyTorch max |diff| ${diff.toExponential(2)}\n`);
      assert.ok(diff <= TOLERANCE, `${kind}: max |diff| ${diff}`);
    }
  });

  it(`a state dict PyTorch trained imports here with PyTorch's outputs, all three kinds (max |diff| <= ${TOLERANCE})`, async () => {
    await Promise.all(
      KINDS.map((kind, i) => {
        const inputs = unetInputs(3, 30 + i);
        writeSafetensorsFile(path.join(dir, `${kind}-in2.safetensors`), torchInputs(kind, inputs));
        return python([
          'init',
          '--kind',
          kind,
          '--hidden',
          '6',
          '--seed',
          String(i),
          '--train-steps',
          '2',
          '--out',
          path.join(dir, `${kind}-pt.safetensors`),
          '--inputs',
          path.join(dir, `${kind}-in2.safetensors`),
          '--forward-out',
          path.join(dir, `${kind}-pt-out.safetensors`),
        ]);
      }),
    );
    for (const [i, kind] of KINDS.entries()) {
      const file = path.join(dir, `${kind}-pt.safetensors`);
      const { model, config } = importTorchUNet(readSafetensorsFile(file), file);
      assert.equal(config.kind, kind);
      assert.equal(config.hidden, 6);
      const mean = model
        .stateEntries()
        .find(([n]) => n === 'up1.up.bn.running_mean')![1]
        .dataSync();
      assert.ok(
        mean.some((v) => v !== 0),
        'two training steps in PyTorch moved the BatchNorm statistics',
      );
      const diff = maxAbsDiff(forwardData(model, unetInputs(3, 30 + i)), outputOf(path.join(dir, `${kind}-pt-out.safetensors`)));
      process.stderr.write(`      ${kind}: PyTorch-trained weights, TF.js vs PyTorch max |diff| ${diff.toExponential(2)}\n`);
      assert.ok(diff <= TOLERANCE, `${kind}: max |diff| ${diff}`);
      model.dispose();
    }
  });
});
