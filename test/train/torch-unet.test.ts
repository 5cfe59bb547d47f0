// Part B UNets to PyTorch state dicts and back (src/lib/train/torch-unet.ts), without PyTorch:
// the round trip must give the same bytes and outputs for all three kinds.
import assert from 'assert/strict';
import { decodeSafetensors, encodeSafetensors } from '../../src/lib/io/safetensors';
import { defaultTrainConfig } from '../../src/lib/train/config';
import { exportTorchUNet, importTorchUNet, unetFromCheckpoint, unetShapeFacts } from '../../src/lib/train/torch-unet';
import { useDefaultBackend } from '../helpers';
import { forwardData, KINDS, randomUNet, unetInputs } from './torch-fixtures';

describe('Part B UNets as PyTorch state dicts', () => {
  before(useDefaultBackend);

  for (const kind of KINDS) {
    it(`${kind}: export -> safetensors bytes -> import gives identical tensors and outputs`, () => {
      const model = randomUNet(kind, 4, 3);
      const config = { ...defaultTrainConfig(kind), hidden: 4, T: 123 };
      const file = exportTorchUNet(model, config, { source: 'test' });
      assert.equal(file.metadata.layout, 'torch');
      assert.equal(file.metadata.kind, kind);
      const bytes = encodeSafetensors(file.tensors, file.metadata);
      const { model: back, config: backConfig } = importTorchUNet(decodeSafetensors(bytes), 'exported.safetensors');
      assert.deepEqual(backConfig, config, 'the training config travels in the metadata');
      const original = new Map(model.stateEntries().map(([n, v]) => [n, v.dataSync()]));
      for (const [name, v] of back.stateEntries()) assert.deepEqual(v.dataSync(), original.get(name), name);
      const inputs = unetInputs(3, 5);
      assert.deepEqual(forwardData(back, inputs), forwardData(model, inputs));
      // Exporting the imported model again writes the very same file.
      const again = exportTorchUNet(back, backConfig, { source: 'test' });
      assert.ok(Buffer.from(encodeSafetensors(again.tensors, again.metadata)).equals(bytes), 'byte-identical re-export');
      model.dispose();
      back.dispose();
    });
  }

  it('reads kind, width and classes off the shapes, in either layout', () => {
    const model = randomUNet('class', 3, 1);
    const file = exportTorchUNet(model, { ...defaultTrainConfig('class'), hidden: 3 });
    const torchShapes = Object.fromEntries(Object.entries(file.tensors).map(([n, t]) => [n, t.shape]));
    assert.deepEqual(unetShapeFacts(torchShapes, 'torch', 'f'), { kind: 'class', hidden: 3, numClasses: 10 });
    const tfShapes = Object.fromEntries(model.stateEntries().map(([n, v]) => [n, v.shape]));
    assert.deepEqual(unetShapeFacts(tfShapes, 'tfjs', 'f'), { kind: 'class', hidden: 3, numClasses: 10 });
    assert.throws(
      () => unetShapeFacts(tfShapes, 'torch', 'mixed.safetensors'),
      /mixed\.safetensors: "in_block\.conv1\.conv\.weight" has shape \[3, 3, 1, 3\], but a Part B UNet's first conv in PyTorch layout is \[D, 1, 3, 3\].*Is the file in TF\.js layout/,
    );
    assert.throws(() => unetShapeFacts({}, 'torch', 'empty.safetensors'), /empty\.safetensors has no tensor "in_block\.conv1\.conv\.weight"/);
    model.dispose();
  });

  it("a state dict without metadata (plain PyTorch save_file) imports with SPEC's config for the kind", () => {
    const model = randomUNet('time', 2, 4);
    const { tensors } = exportTorchUNet(model, { ...defaultTrainConfig('time'), hidden: 2, T: 50 });
    const { model: back, config } = importTorchUNet({ tensors, metadata: {} }, 'plain.safetensors');
    assert.deepEqual(config, { ...defaultTrainConfig('time'), hidden: 2 });
    back.dispose();
    model.dispose();
  });

  it('refuses a TF.js-layout file, and a state dict of another width names the tensors', () => {
    const model = randomUNet('denoiser', 2, 6);
    const values = new Map(model.stateEntries().map(([n, v]) => [n, { shape: [...v.shape], data: v.dataSync() as Float32Array }]));
    assert.throws(
      () => importTorchUNet({ tensors: {}, metadata: { layout: 'tfjs' } }, 'ckpt.safetensors'),
      /ckpt\.safetensors is already in this project's TF\.js layout.*load it directly/,
    );
    const { tensors, metadata } = exportTorchUNet(model, { ...defaultTrainConfig('denoiser'), hidden: 2 });
    tensors['in_block.conv1.conv.weight'] = { dtype: 'F32', shape: [3, 1, 3, 3], data: new Float32Array(27) };
    assert.throws(
      () => importTorchUNet({ tensors, metadata }, 'wide.safetensors'),
      /wide\.safetensors is not a PyTorch state dict of this model: .*"in_block\.conv1\.conv\.bias" \(bias\) has shape \[2\], expected \[3\]/,
    );
    // The same model's TF.js checkpoint (with a training checkpoint's optimiser moments) rebuilds it.
    values.set('adam.m.out_conv.bias', { shape: [1], data: new Float32Array(1) });
    const rebuilt = unetFromCheckpoint(values, {}, 'checkpoint.safetensors');
    assert.equal(rebuilt.config.kind, 'denoiser');
    rebuilt.model.dispose();
    values.set('stray', { shape: [1], data: new Float32Array(1) });
    assert.throws(
      () => unetFromCheckpoint(values, {}, 'odd.safetensors'),
      /odd\.safetensors holds 1 tensor\(s\) a denoiser UNet with D = 2 does not have \(e\.g\. stray\)/,
    );
    model.dispose();
  });
});
