import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../src/lib/backend/select';
import { decodeSafetensors } from '../../src/lib/io/safetensors';
import { EMOJI_STAGE2_FILE, weightsDir } from '../../src/lib/pretrained/emoji-model';
import { trainConfigFor } from '../../src/lib/profiles';
import { decodeNetworkFile, encodeNetworkFile, halfPrecisionCopy, readNetworkFile } from '../../src/lib/train/network-file';
import { createNetwork } from '../../src/lib/train/networks';
import { UNet } from '../../src/lib/nn/unet';

describe('network files (weights + config in one safetensors file)', () => {
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('rebuild the same network: F32 exactly, F16 within half-precision rounding, at half the data bytes', async () => {
    const config = trainConfigFor('class', 'smoke', { seed: 3 });
    const net = createNetwork(config) as UNet;
    const f32 = await encodeNetworkFile(net, config);
    const f16 = await encodeNetworkFile(net, config, { dtype: 'F16', metadata: { note: 'test' } });
    const dataBytes = (bytes: Uint8Array) => Object.values(decodeSafetensors(bytes).tensors).reduce((n, t) => n + t.data.byteLength, 0);
    assert.equal(dataBytes(f16) * 2, dataBytes(f32));
    const a = readNetworkFile(f32, 'f32', 'class');
    const b = readNetworkFile(f16, 'f16', 'class');
    assert.equal(b.metadata.note, 'test');
    assert.deepEqual(a.config, config);
    for (const [[name, v], [, w], [, x]] of net.stateEntries().map((e, i) => [e, a.net.stateEntries()[i], b.net.stateEntries()[i]] as const)) {
      const orig = v.dataSync() as Float32Array;
      assert.deepEqual(w.dataSync(), orig, name);
      const half = x.dataSync() as Float32Array;
      for (let i = 0; i < orig.length; i++) assert.ok(Math.abs(half[i] - orig[i]) <= Math.abs(orig[i]) * 2 ** -11 + 2 ** -24, `${name}[${i}]`);
    }
    for (const n of [net, a.net, b.net]) n.dispose();
  });

  it('refuse a file of another kind, or one without a config, naming the file', async () => {
    const config = trainConfigFor('denoiser', 'smoke', { seed: 0 });
    const net = createNetwork(config);
    const bytes = await encodeNetworkFile(net, config);
    net.dispose();
    assert.throws(() => readNetworkFile(bytes, 'd.safetensors', 'class'), /d\.safetensors holds a denoiser network, expected class/);
    const plain = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'demo', 'digit-judge.f16.safetensors'));
    assert.throws(() => decodeNetworkFile(plain, 'judge.safetensors'), /judge\.safetensors has no "config" metadata/);
  });

  it('halfPrecisionCopy turns every F32 tensor of a file into F16 and keeps the metadata', () => {
    const file = path.join(weightsDir(), EMOJI_STAGE2_FILE);
    const bytes = fs.readFileSync(file);
    const half = halfPrecisionCopy(bytes, file);
    const a = decodeSafetensors(bytes);
    const b = decodeSafetensors(half);
    assert.deepEqual(b.metadata, a.metadata);
    assert.deepEqual(Object.keys(b.tensors).sort(), Object.keys(a.tensors).sort());
    assert.ok(Object.values(b.tensors).every((t) => t.dtype === 'F16'));
    assert.ok(half.length < bytes.length * 0.51);
  });
});
