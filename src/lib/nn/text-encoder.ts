import { tf } from '../backend/tf';
import { Rng } from '../random';
import { PAD_ID } from '../text/tokenizer';
import { AttentionContext, PAD_BIAS } from './attention';
import { gelu, Linear } from './layers';
import { Module } from './module';

/**
 * The built-in model's text encoder, trained jointly with its UNet: a tiny Transformer over word
 * embeddings (the role T5-XXL plays for DeepFloyd IF), giving
 *  - per-token features for the UNet's attention layers, and
 *  - one pooled vector (attention pooling with a learned query) added to the timestep embedding.
 */
export interface TextEncoderConfig {
  vocabSize: number;
  maxTokens: number;
  /** Width of the token features. */
  dim: number;
  layers: number;
  heads: number;
  /** Size of the pooled vector. */
  pooledDim: number;
}

export interface TextEncoding {
  /** [N, pooledDim] */
  pooled: tf.Tensor2D;
  /** Token features and padding bias for attention. */
  context: AttentionContext;
}

/** Standard normal init times `scale` (embeddings, positions, the pooling query). */
function normalInit(rng: Rng, shape: number[], scale: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = rng.normalArray(n);
  for (let i = 0; i < n; i++) data[i] *= scale;
  return tf.tensor(data, shape, 'float32');
}

/** LayerNorm over the last axis (eps 1e-5) with a learned gain and bias. */
class LayerNorm extends Module {
  private readonly gain: tf.Variable;
  private readonly bias: tf.Variable;
  constructor(dim: number) {
    super();
    this.gain = this.addParam('weight', tf.ones([dim]));
    this.bias = this.addParam('bias', tf.zeros([dim]));
  }
  forward<T extends tf.Tensor>(x: T): T {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), this.gain), this.bias) as T;
  }
}

/** A pre-norm Transformer layer: x += MHA(LN(x)); x += MLP(LN(x)). */
class TransformerLayer extends Module {
  private readonly ln1: LayerNorm;
  private readonly qkv: Linear;
  private readonly proj: Linear;
  private readonly ln2: LayerNorm;
  private readonly fc1: Linear;
  private readonly fc2: Linear;

  constructor(
    rng: Rng,
    readonly dim: number,
    readonly heads: number,
  ) {
    super();
    this.ln1 = this.addChild('ln1', new LayerNorm(dim));
    this.qkv = this.addChild('qkv', new Linear(rng, dim, 3 * dim));
    this.proj = this.addChild('proj', new Linear(rng, dim, dim));
    this.ln2 = this.addChild('ln2', new LayerNorm(dim));
    this.fc1 = this.addChild('fc1', new Linear(rng, dim, 4 * dim));
    this.fc2 = this.addChild('fc2', new Linear(rng, 4 * dim, dim));
  }

  /** x [N, L, dim]; bias [N*heads, 1, L] masks padding keys. */
  forward(x: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D {
    const [n, l, c] = x.shape;
    const heads = this.heads;
    const d = c / heads;
    const flat = (t: tf.Tensor) => tf.reshape(t, [n * l, c]) as tf.Tensor2D;
    const split = (t: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(t, [n, l, heads, d]), [0, 2, 1, 3]), [n * heads, l, d]) as tf.Tensor3D;
    const [q, k, v] = (tf.split(this.qkv.forward(flat(this.ln1.forward(x))), 3, 1) as tf.Tensor2D[]).map(split);
    const weights = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)), bias));
    const att = tf.reshape(tf.transpose(tf.reshape(tf.matMul(weights, v), [n, heads, l, d]), [0, 2, 1, 3]), [n * l, c]) as tf.Tensor2D;
    const x1 = tf.add(x, tf.reshape(this.proj.forward(att), [n, l, c])) as tf.Tensor3D;
    const mlp = this.fc2.forward(gelu(this.fc1.forward(flat(this.ln2.forward(x1)))));
    return tf.add(x1, tf.reshape(mlp, [n, l, c]));
  }
}

/**
 * Embedding lookup whose gradient is a scatter-add (ScatterNd sums repeated ids). tf.gather's own
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 */
function embeddingLookup(table: tf.Variable, ids: Int32Array): tf.Tensor2D {
  const [vocab, dim] = table.shape;
  // The id tensors are made inside each function: the engine frees intermediates of the forward
  // pass before the gradient runs.
  const forward = (t: tf.Tensor) => ({
    value: tf.gather(t, tf.tensor1d(ids, 'int32')),
    gradFunc: (dy: tf.Tensor) => [tf.scatterND(tf.tensor2d(ids, [ids.length, 1], 'int32'), dy, [vocab, dim])],
  });
  return tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0])(table) as tf.Tensor2D;
}

export class TextEncoder extends Module {
  private readonly tokenEmbedding: tf.Variable;
  private readonly positionEmbedding: tf.Variable;
  private readonly layers: TransformerLayer[];
  private readonly lnOut: LayerNorm;
  private readonly poolQuery: tf.Variable;
  private readonly poolProj: Linear;

  constructor(
    readonly config: TextEncoderConfig,
    rng: Rng,
  ) {
    super();
    const { vocabSize, maxTokens, dim, layers, heads, pooledDim } = config;
    if (dim % heads !== 0) throw new Error(`TextEncoder: dim ${dim} does not split into ${heads} heads`);
    // Small initial embeddings (std 0.16 at dim 64); measured: std 1 (PyTorch's nn.Embedding) made
    // the prompts' pooled vectors no more distinct after 150 steps.
    this.tokenEmbedding = this.addParam('token_embedding', normalInit(rng, [vocabSize, dim], 0.02 * Math.sqrt(dim)), 'same-layout');
    this.positionEmbedding = this.addParam('position_embedding', normalInit(rng, [maxTokens, dim], 0.02 * Math.sqrt(dim)), 'same-layout');
    this.layers = Array.from({ length: layers }, (_, i) => this.addChild(`layer${i}`, new TransformerLayer(rng, dim, heads)));
    this.lnOut = this.addChild('ln_out', new LayerNorm(dim));
    this.poolQuery = this.addParam('pool_query', normalInit(rng, [dim, 1], 1 / Math.sqrt(dim)), 'same-layout');
    this.poolProj = this.addChild('pool_proj', new Linear(rng, dim, pooledDim));
  }

  /** Padding bias per token, [N, L]: 0 for the start token and words, PAD_BIAS for padding. */
  static paddingBias(ids: Int32Array, count: number, maxTokens: number): tf.Tensor2D {
    const bias = new Float32Array(count * maxTokens);
    for (let i = 0; i < bias.length; i++) bias[i] = ids[i] === PAD_ID ? PAD_BIAS : 0;
    return tf.tensor2d(bias, [count, maxTokens]);
  }

  /** Encodes token ids [count * maxTokens] (Vocabulary.encodeMany / idsOf rows). */
  forward(ids: Int32Array): TextEncoding {
    const { maxTokens: l, dim, heads } = this.config;
    if (ids.length % l !== 0) throw new Error(`TextEncoder: ${ids.length} token ids is not a whole number of ${l}-token rows`);
    const n = ids.length / l;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize)
        throw new Error(`TextEncoder: token id ${id} is outside 0..${this.config.vocabSize - 1}`);
    }
    const bias = TextEncoder.paddingBias(ids, n, l);
    const attnBias = tf.reshape(tf.tile(tf.reshape(bias, [n, 1, 1, l]), [1, heads, 1, 1]), [n * heads, 1, l]) as tf.Tensor3D;
    let x = tf.add(tf.reshape(embeddingLookup(this.tokenEmbedding, ids), [n, l, dim]), this.positionEmbedding) as tf.Tensor3D;
    for (const layer of this.layers) x = layer.forward(x, attnBias);
    const tokens = this.lnOut.forward(x);
    // Attention pooling: one learned query over the tokens (padding masked out).
    const scores = tf.add(tf.reshape(tf.matMul(tf.reshape(tokens, [n * l, dim]), this.poolQuery), [n, l]), bias);
    const weights = tf.reshape(tf.softmax(scores), [n, 1, l]) as tf.Tensor3D;
    const pooled = tf.reshape(tf.matMul(weights, tokens), [n, dim]) as tf.Tensor2D;
    return { pooled: this.poolProj.forward(pooled), context: { tokens, bias } };
  }
}
