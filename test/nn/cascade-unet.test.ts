import assert from 'node:assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { CascadeUNet, CascadeUNetConfig } from '../../src/lib/nn/cascade-unet';
import { TextEncoder } from '../../src/lib/nn/text-encoder';
import { TextToImageNet } from '../../src/lib/nn/text-to-image';
import { PAD_ID } from '../../src/lib/text/tokenizer';
import { Rng } from '../../src/lib/random';
import { uniformValues, useDefaultBackend } from '../helpers';

const stage1: CascadeUNetConfig = {
  channels: 3,
  widths: [8, 16],
  blocksPerLevel: 1,
  attentionLevels: [1],
  midAttention: true,
  headDim: 8,
  pooledDim: 12,
  contextDim: 8,
  lowResInput: false,
  timeFeatures: 8,
};
const stage2: CascadeUNetConfig = { ...stage1, attentionLevels: [], midAttention: false, pooledDim: 0, contextDim: 0, lowResInput: true };
const text = { vocabSize: 10, maxTokens: 5, dim: 8, layers: 1, heads: 2, pooledDim: 12 };

describe('nn: the cascade UNets and the text encoder', function () {
  before(useDefaultBackend);

  it('stage I maps [N, H, W, 3] and a prompt to eps of the same shape', () => {
    const net = new TextToImageNet(text, stage1, new Rng(0));
    const x = tf.tensor4d(uniformValues(2 * 8 * 8 * 3, 1), [2, 8, 8, 3]);
    const ids = Int32Array.from([1, 4, 5, 0, 0, 1, 0, 0, 0, 0]);
    const eps = net.forward({ x, t: [10, 900], ids });
    assert.deepEqual(eps.shape, [2, 8, 8, 3]);
    assert.ok(net.namedParameters().every(([n]) => n.startsWith('text.') || n.startsWith('unet.')));
    tf.dispose([x, eps]);
    net.dispose();
  });

  it('stage II takes the enlarged low-res image and an augmentation level per image', () => {
    const net = new CascadeUNet(stage2, new Rng(0));
    const x = tf.tensor4d(uniformValues(2 * 8 * 8 * 3, 2), [2, 8, 8, 3]);
    const low = tf.tensor4d(uniformValues(2 * 8 * 8 * 3, 3), [2, 8, 8, 3]);
    const eps = net.forward({ x, t: [5, 5], lowRes: low, augLevel: [0, 100] });
    assert.deepEqual(eps.shape, [2, 8, 8, 3]);
    // The low-res image and the augmentation level both change the prediction.
    const low2 = tf.mul(low, -1) as tf.Tensor4D;
    const other = net.forward({ x, t: [5, 5], lowRes: low2, augLevel: [0, 100] });
    const aug = net.forward({ x, t: [5, 5], lowRes: low, augLevel: [300, 300] });
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    assert.ok(diff(eps, other) > 1e-4, 'low-res input conditions the output');
    assert.ok(diff(eps, aug) > 1e-4, 'augmentation level conditions the output');
    assert.throws(() => net.forward({ x, t: [5, 5] }), /needs the upsampled low-res images/);
    tf.dispose([x, low, low2, eps, other, aug]);
    net.dispose();
  });

  it('rejects images whose size the levels cannot halve, and missing text', () => {
    const net = new TextToImageNet(text, stage1, new Rng(0));
    const odd = tf.zeros([1, 7, 7, 3]) as tf.Tensor4D;
    assert.throws(() => net.unet.forward({ x: odd, t: [1] }), /H and W multiples of 2/);
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    assert.throws(() => net.unet.forward({ x, t: [1] }), /needs pooled text features/);
    tf.dispose([odd, x]);
    net.dispose();
  });

  it('builds the same weights from the same seed and gives the same bytes', () => {
    const run = () => {
      const net = new TextToImageNet(text, stage1, new Rng(7));
      const x = tf.tensor4d(uniformValues(8 * 8 * 3, 4), [1, 8, 8, 3]);
      const out = net.forward({ x, t: [500], ids: Int32Array.from([1, 2, 3, 0, 0]) });
      const bytes = Buffer.from((out.dataSync() as Float32Array).buffer).toString('hex');
      tf.dispose([x, out]);
      net.dispose();
      return bytes;
    };
    assert.equal(run(), run());
  });

  it("the text encoder ignores padding: the pad token's embedding does not change the encoding", () => {
    const enc = new TextEncoder(text, new Rng(1));
    const ids = Int32Array.from([1, 3, 4, 0, 0]);
    const a = enc.forward(ids);
    const pooledA = a.pooled.dataSync().slice();
    const table = enc.namedParameters().find(([n]) => n === 'token_embedding')![1];
    const changed = table.arraySync() as number[][];
    changed[PAD_ID] = changed[PAD_ID].map((v) => v + 5);
    table.assign(tf.tensor2d(changed));
    const b = enc.forward(ids);
    assert.deepEqual([...b.pooled.dataSync()], [...pooledA]);
    tf.dispose([a.pooled, a.context.tokens, a.context.bias, b.pooled, b.context.tokens, b.context.bias]);
    enc.dispose();
  });

  it("the token embedding's gradient is a scatter-add of the rows it used (repeated ids summed)", () => {
    const enc = new TextEncoder({ ...text, layers: 0 }, new Rng(2));
    const table = enc.namedParameters().find(([n]) => n === 'token_embedding')![1];
    const ids = Int32Array.from([1, 3, 3, 0, 0]);
    const { grads } = tf.variableGrads(() => tf.sum(enc.forward(ids).pooled) as tf.Scalar, [table]);
    const g = grads[table.name].arraySync() as number[][];
    // Rows 1 (start) and 3 (twice) reach the output; padding (row 0) is masked out, the rest unused.
    const used = new Set([1, 3]);
    for (let r = 0; r < text.vocabSize; r++) {
      const norm = g[r].reduce((s, v) => s + Math.abs(v), 0);
      if (used.has(r)) assert.ok(norm > 0, `row ${r} was used and has a gradient`);
      else assert.equal(norm, 0, `row ${r} does not reach the output`);
    }
    tf.dispose(Object.values(grads));
    enc.dispose();
  });
});
