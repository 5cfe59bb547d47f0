// TF.js <-> PyTorch tensor layouts (src/lib/io/torch-layout.ts), checked against the layers'
// PyTorch definitions written out as sums over indices: no PyTorch needed here.
import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/lib/backend/tf';
import { loadCheckpoint } from '../../src/lib/checkpoint';
import { NamedTensor, writeSafetensorsFile } from '../../src/lib/io/safetensors';
import { batchNormCounters, detectLayout, fromTorchState, permuteAxes, stateSpec, tfjsToTorch, toTorchState, torchToTfjs } from '../../src/lib/io/torch-layout';
import { Conv2d, ConvTranspose2d, Linear } from '../../src/lib/nn/layers';
import { Module } from '../../src/lib/nn/module';
import { UNet } from '../../src/lib/nn/unet';
import { Rng } from '../../src/lib/random';
import { tempDir, uniformValues, useDefaultBackend } from '../helpers';

/** A layer's output for NHWC input `x` after loading a PyTorch-layout weight (converted) and bias. */
function runWithTorchWeight(
  layer: Conv2d | ConvTranspose2d,
  role: 'conv2d-weight' | 'conv-transpose2d-weight',
  torchW: Float32Array,
  torchShape: number[],
  bias: Float32Array,
  x: Float32Array,
  xShape: number[],
): { data: Float32Array; shape: number[] } {
  const w = torchToTfjs(role, 'weight', torchShape, torchW);
  layer.weight.assign(tf.tensor(w.data, w.shape));
  layer.bias.assign(tf.tensor(bias));
  return tf.tidy(() => {
    const y = layer.forward(tf.tensor4d(x, xShape as [number, number, number, number]));
    return { data: y.dataSync() as Float32Array, shape: y.shape };
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= tol, `${what}: max |diff| ${worst} > ${tol}`);
}

describe('torch layout: TF.js <-> PyTorch', () => {
  before(useDefaultBackend);

  it('permuteAxes reorders axes like numpy.transpose, and the inverse restores the array', () => {
    // a[i][j][k] = 100 i + 10 j + k, shape [2, 3, 4]
    const shape = [2, 3, 4];
    const a = new Float32Array(24).map((_, n) => 100 * Math.floor(n / 12) + 10 * (Math.floor(n / 4) % 3) + (n % 4));
    const t = permuteAxes(a, shape, [2, 0, 1]); // t[k][i][j] = a[i][j][k]
    assert.deepEqual(t.shape, [4, 2, 3]);
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) assert.equal(t.data[(k * 2 + i) * 3 + j], 100 * i + 10 * j + k);
    assert.deepEqual(permuteAxes(t.data, t.shape, [1, 2, 0]).data, a);
    assert.throws(() => permuteAxes(a, shape, [0, 0, 1]), /not a permutation/);
  });

  it('each role maps to PyTorch shapes and back exactly', () => {
    const cases: Array<[Parameters<typeof tfjsToTorch>[0], number[], number[]]> = [
      ['conv2d-weight', [3, 3, 2, 5], [5, 2, 3, 3]],
      ['conv-transpose2d-weight', [4, 4, 5, 2], [2, 5, 4, 4]],
      ['linear-weight', [10, 6], [6, 10]],
      ['bias', [5], [5]],
      ['batchnorm', [5], [5]],
    ];
    for (const [role, tfShape, ptShape] of cases) {
      const data = uniformValues(
        tfShape.reduce((a, b) => a * b, 1),
        7,
      );
      const pt = tfjsToTorch(role, 'x', tfShape, data);
      assert.deepEqual(pt.shape, ptShape, role);
      const back = torchToTfjs(role, 'x', pt.shape, pt.data);
      assert.deepEqual(back.shape, tfShape, role);
      assert.deepEqual(back.data, data, role);
    }
    assert.throws(
      () => tfjsToTorch('unspecified', 'emb.table', [4, 3], new Float32Array(12)),
      /Tensor "emb\.table" \(shape \[4, 3\]\) comes from a layer that does not say what it is/,
    );
  });

  it("Conv2d: a PyTorch weight [out, in, kh, kw] gives PyTorch's cross-correlation (stride 2, padding 1)", () => {
    const [n, h, w, ci, co, k, s, p] = [2, 5, 5, 3, 4, 3, 2, 1];
    const layer = new Conv2d(new Rng(1), ci, co, k, s, p);
    const W = uniformValues(co * ci * k * k, 11); // W[o][c][ky][kx]
    const b = uniformValues(co, 12);
    const x = uniformValues(n * h * w * ci, 13);
    const y = runWithTorchWeight(layer, 'conv2d-weight', W, [co, ci, k, k], b, x, [n, h, w, ci]);
    const oh = Math.floor((h + 2 * p - k) / s) + 1;
    assert.deepEqual(y.shape, [n, oh, oh, co]);
    const expected = new Float32Array(n * oh * oh * co);
    for (let m = 0; m < n; m++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < oh; ox++)
          for (let o = 0; o < co; o++) {
            let sum = b[o];
            for (let c = 0; c < ci; c++)
              for (let ky = 0; ky < k; ky++)
                for (let kx = 0; kx < k; kx++) {
                  const iy = oy * s - p + ky;
                  const ix = ox * s - p + kx;
                  if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                  sum += x[((m * h + iy) * w + ix) * ci + c] * W[((o * ci + c) * k + ky) * k + kx];
                }
            expected[((m * oh + oy) * oh + ox) * co + o] = sum;
          }
    assertClose(y.data, expected, 1e-5, 'conv2d');
    layer.dispose();
  });

  it('ConvTranspose2d: one input pixel reproduces the PyTorch kernel unflipped', () => {
    // PyTorch: ConvTranspose2d(1, 1, 2, stride 1) with weight [[1, 2], [3, 4]] maps [[1]] to [[1, 2], [3, 4]].
    const layer = new ConvTranspose2d(new Rng(2), 1, 1, 2, 1, 0);
    const y = runWithTorchWeight(
      layer,
      'conv-transpose2d-weight',
      new Float32Array([1, 2, 3, 4]),
      [1, 1, 2, 2],
      new Float32Array([0]),
      new Float32Array([1]),
      [1, 1, 1, 1],
    );
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    assert.deepEqual([...y.data], [1, 2, 3, 4]);
    layer.dispose();
  });

  for (const [label, n, h, ci, co, k, s, p] of [
    ['UpConv (k 4, stride 2, padding 1)', 2, 3, 3, 2, 4, 2, 1],
    ['Unflatten (k 7, stride 7, 1x1 input: the matMul path)', 2, 1, 3, 2, 7, 7, 0],
  ] as const) {
    it(`ConvTranspose2d ${label}: PyTorch weight [in, out, kh, kw] gives PyTorch's sum`, () => {
      const layer = new ConvTranspose2d(new Rng(3), ci, co, k, s, p);
      const W = uniformValues(ci * co * k * k, 21); // W[c][o][ky][kx]
      const b = uniformValues(co, 22);
      const x = uniformValues(n * h * h * ci, 23);
      const y = runWithTorchWeight(layer, 'conv-transpose2d-weight', W, [ci, co, k, k], b, x, [n, h, h, ci]);
      const oh = (h - 1) * s - 2 * p + k;
      assert.deepEqual(y.shape, [n, oh, oh, co]);
      // out[y*s - p + ky, x*s - p + kx, o] += in[y, x, c] * W[c, o, ky, kx]
      const expected = new Float32Array(n * oh * oh * co);
      for (let m = 0; m < n; m++)
        for (let yy = 0; yy < oh; yy++) for (let xx = 0; xx < oh; xx++) for (let o = 0; o < co; o++) expected[((m * oh + yy) * oh + xx) * co + o] = b[o];
      for (let m = 0; m < n; m++)
        for (let iy = 0; iy < h; iy++)
          for (let ix = 0; ix < h; ix++)
            for (let c = 0; c < ci; c++) {
              for (let o = 0; o < co; o++)
                for (let ky = 0; ky < k; ky++)
                  for (let kx = 0; kx < k; kx++) {
                    const oy = iy * s - p + ky;
                    const ox = ix * s - p + kx;
                    if (oy < 0 || ox < 0 || oy >= oh || ox >= oh) continue;
                    expected[((m * oh + oy) * oh + ox) * co + o] += x[((m * h + iy) * h + ix) * ci + c] * W[((c * co + o) * k + ky) * k + kx];
                  }
            }
      assertClose(y.data, expected, 1e-5, label);
      layer.dispose();
    });
  }

  it('Linear: a PyTorch weight [out, in] gives x W^T + b', () => {
    const layer = new Linear(new Rng(4), 3, 2);
    const w = torchToTfjs('linear-weight', 'w', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
    layer.weight.assign(tf.tensor(w.data, w.shape));
    layer.bias.assign(tf.tensor([0.5, -0.5]));
    const y = tf.tidy(() => layer.forward(tf.tensor2d([[1, 0, -1]])).dataSync());
    assert.deepEqual([...y], [1 - 3 + 0.5, 4 - 6 - 0.5]);
    layer.dispose();
  });

  describe('state dicts', () => {
    let model: UNet;
    before(() => {
      model = new UNet({ hidden: 2, conditioning: 'time' }, new Rng(5));
    });
    after(() => model.dispose());

    function torchState(): Record<string, NamedTensor> {
      const values = new Map(model.stateEntries().map(([name, v]) => [name, { shape: [...v.shape], data: v.dataSync() as Float32Array }]));
      return toTorchState(stateSpec(model), values);
    }

    it('the model declares a role for every tensor, and BatchNorm modules get their step counters', () => {
      const spec = stateSpec(model);
      assert.ok(
        spec.every((t) => t.role !== 'unspecified'),
        'every layer of the UNet says what its tensors are',
      );
      assert.equal(spec.find((t) => t.name === 'up1.up.conv.weight')?.role, 'conv-transpose2d-weight');
      assert.equal(spec.find((t) => t.name === 't1.fc2.weight')?.role, 'linear-weight');
      assert.equal(spec.find((t) => t.name === 'down1.down.bn.running_var')?.role, 'batchnorm');
      const counters = batchNormCounters(spec);
      assert.ok(counters.includes('unflatten.bn.num_batches_tracked'));
      assert.equal(counters.length, spec.filter((t) => t.name.endsWith('.running_mean')).length);
      const state = torchState();
      assert.deepEqual(state['in_block.conv1.conv.weight'].shape, [2, 1, 3, 3]);
      assert.deepEqual(state['unflatten.conv.weight'].shape, [4, 4, 7, 7]);
      assert.equal(state['unflatten.bn.num_batches_tracked'].dtype, 'I64');
    });

    it('a missing, an unexpected and a misshapen tensor are all named, with expected and found shapes', () => {
      const state = torchState();
      delete state['down2.block.conv1.conv.bias'];
      state['mystery.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
      state['up2.up.conv.weight'] = { dtype: 'F32', shape: [4, 2, 3, 3], data: new Float32Array(72) };
      state['t2.fc1.bias'] = { dtype: 'I32', shape: [2], data: new Int32Array(2) };
      state['t1.fc2.weight'] = { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) }; // right shape: no complaint
      state['t1.fc1.weight'] = { dtype: 'F32', shape: [1, 4], data: new Float32Array(4) }; // left in TF.js layout
      assert.throws(
        () => fromTorchState(stateSpec(model), state, 'bad.safetensors'),
        (err: Error) => {
          assert.match(err.message, /^bad\.safetensors is not a PyTorch state dict of this model/);
          assert.match(err.message, /missing 1 tensor\(s\): "down2\.block\.conv1\.conv\.bias"/);
          assert.match(err.message, /1 tensor\(s\) this model does not have: "mystery\.weight"/);
          assert.match(err.message, /"up2\.up\.conv\.weight" \(conv-transpose2d-weight\) has shape \[4, 2, 3, 3\], expected \[4, 2, 4, 4\]/);
          assert.match(err.message, /"t2\.fc1\.bias" is I32; it must be a float tensor/);
          assert.match(
            err.message,
            /"t1\.fc1\.weight" \(linear-weight\) has shape \[1, 4\], expected \[4, 1\] \(the TF\.js layout: this tensor was not converted/,
          );
          assert.doesNotMatch(err.message, /t1\.fc2\.weight/);
          assert.match(err.message, /scripts\/torch_unets\.py/);
          return true;
        },
      );
    });

    it('BatchNorm step counters may be absent; F16 weights are read as float32', () => {
      const state = torchState();
      for (const name of batchNormCounters(stateSpec(model))) delete state[name];
      const values = fromTorchState(stateSpec(model), state, 'no-counters');
      assert.deepEqual(
        values.get('out_conv.weight')!.data,
        model
          .stateEntries()
          .find(([n]) => n === 'out_conv.weight')![1]
          .dataSync(),
      );
      state['out_conv.bias'] = { dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) }; // 1.0
      assert.deepEqual([...fromTorchState(stateSpec(model), state, 'f16').get('out_conv.bias')!.data], [1]);
    });

    it('a PyTorch-layout file is refused where TF.js layout is needed, naming the import command', () => {
      const file = path.join(tempDir('torch-layout'), 'torch.safetensors');
      writeSafetensorsFile(file, torchState(), { layout: 'torch' });
      assert.throws(
        () => loadCheckpoint(file),
        new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds PyTorch-layout tensors.*diffusion import --torch`),
      );
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    });
  });

  it("detectLayout: the metadata key first, else PyTorch's marks, else TF.js", () => {
    assert.equal(detectLayout({ layout: 'torch' }, [], 'f'), 'torch');
    assert.equal(detectLayout({ layout: 'tfjs' }, ['a.num_batches_tracked'], 'f'), 'tfjs');
    assert.equal(detectLayout({ format: 'pt' }, [], 'f'), 'torch');
    assert.equal(detectLayout({}, ['bn.num_batches_tracked'], 'f'), 'torch');
    assert.equal(detectLayout({ epoch: '3' }, ['bn.running_mean'], 'f'), 'tfjs');
    assert.throws(
      () => detectLayout({ layout: 'jax' }, [], 'f.safetensors'),
      /f\.safetensors: metadata "layout" is "jax"; this project reads "tfjs" and "torch"/,
    );
  });

  it('a layer without declared roles cannot be converted unless its tensors are vectors', () => {
    class Table extends Module {
      constructor() {
        super();
        this.addParam('table', tf.zeros([3, 2]));
      }
    }
    const m = new Table();
    assert.throws(() => toTorchState(stateSpec(m), new Map([['table', { shape: [3, 2], data: new Float32Array(6) }]])), /"table".*PyTorch layout is unknown/);
    m.dispose();
  });
});
