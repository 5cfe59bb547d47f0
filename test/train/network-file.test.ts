import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../src/lib/backend/select';
import { decodeSafetensors } from '../../src/lib/io/safetensors';
import { EMOJI_STAGE2_FILE, weightsDir } from '../../src/lib/pretrained/emoji-model';
import { trainConfigFor } from '../../src/writeup/profiles';
import { decodeNetworkFile, encodeNetworkFile, halfPrecisionCopy, int8Copy, readNetworkFile } from '../../src/lib/train/network-file';
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

describe("int8 network files (the demos' downloads)", () => {
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('keep every large weight within half a per-channel step, small ones as F16, at about a quarter of the bytes', () => {
    const file = path.join(weightsDir(), EMOJI_STAGE2_FILE);
    const bytes = fs.readFileSync(file);
    const small = int8Copy(bytes, file);
    assert.ok(small.length < bytes.length * 0.3, `${small.length} of ${bytes.length} bytes`);
    const a = decodeNetworkFile(bytes, 'f32');
    const b = decodeNetworkFile(small, 'int8');
    assert.deepEqual([...b.values.keys()].sort(), [...a.values.keys()].sort());
    for (const [name, { shape, data }] of a.values) {
      const got = b.values.get(name)!.data;
      const channels = shape[shape.length - 1];
      const step = new Float32Array(channels);
      for (let i = 0; i < data.length; i++) step[i % channels] = Math.max(step[i % channels], Math.abs(data[i]) / 127);
      for (let i = 0; i < data.length; i++) {
        const bound = data.length >= 4096 && shape.length >= 2 ? step[i % channels] / 2 + 1e-7 : Math.abs(data[i]) * 2 ** -11 + 2 ** -24;
        assert.ok(Math.abs(got[i] - data[i]) <= bound, `${name}[${i}]: ${got[i]} vs ${data[i]}`);
      }
    }
    const net = readNetworkFile(small, 'int8', 'upsample').net;
    net.dispose();
  });
});
