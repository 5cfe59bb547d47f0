import { tf } from '../backend/tf';
import { Rng } from '../random';
import { BatchNorm2d, Linear } from './layers';
import { ForwardContext, Module } from './module';

/** Text tokens an attention layer can also attend to. */
export interface AttentionContext {
  /** Token features [N, M, contextDim]. */
  tokens: tf.Tensor3D;
  /** Added to the attention logits of each token, [N, M]: 0 for a word, a large negative number for padding. */
  bias: tf.Tensor2D;
}

/** Logit bias of a padding token: exp(-1e4) is 0 in float32, and it stays finite. */
export const PAD_BIAS = -1e4;

/**
 * Multi-head attention over the pixels of a feature map, with the text tokens' keys and values
 * appended to the pixels' own (DeepFloyd IF's "added KV" attention): one softmax decides how much
 * each pixel looks at other pixels and at each word.
 *
 *   x [N, H, W, C] -> BN -> q, k, v (per pixel) ; k, v += text tokens -> softmax(q k^T / sqrt(d)) v -> Linear -> + x
 */
export class SpatialAttention extends Module {
  private readonly norm: BatchNorm2d;
  private readonly qkv: Linear;
  private readonly contextKv?: Linear;
  private readonly proj: Linear;

  constructor(
    rng: Rng,
    readonly channels: number,
    readonly heads: number,
    contextDim = 0,
  ) {
    super();
    if (channels % heads !== 0) throw new Error(`SpatialAttention: ${channels} channels do not split into ${heads} heads`);
    this.norm = this.addChild('norm', new BatchNorm2d(channels));
    this.qkv = this.addChild('qkv', new Linear(rng, channels, 3 * channels));
    if (contextDim > 0) this.contextKv = this.addChild('context_kv', new Linear(rng, contextDim, 2 * channels));
    this.proj = this.addChild('proj', new Linear(rng, channels, channels));
  }

  forward(x: tf.Tensor4D, ctx: ForwardContext, context?: AttentionContext): tf.Tensor4D {
    const [n, h, w, c] = x.shape;
    const p = h * w;
    const heads = this.heads;
    const d = c / heads;
    // [N*P, C] -> [N, heads, P, d] for each of q, k, v.
    const splitHeads = (t: tf.Tensor2D, len: number) =>
      tf.reshape(tf.transpose(tf.reshape(t, [n, len, heads, d]), [0, 2, 1, 3]), [n * heads, len, d]) as tf.Tensor3D;
    const qkv = this.qkv.forward(tf.reshape(this.norm.forward(x, ctx), [n * p, c]) as tf.Tensor2D);
    const [q2, k2, v2] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const q = splitHeads(q2, p);
    let k = splitHeads(k2, p);
    let v = splitHeads(v2, p);
    let bias: tf.Tensor | null = null;
    if (this.contextKv && context) {
      const m = context.tokens.shape[1];
      const kv = this.contextKv.forward(tf.reshape(context.tokens, [n * m, context.tokens.shape[2]]) as tf.Tensor2D);
      const [ck, cv] = tf.split(kv, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      k = tf.concat([k, splitHeads(ck, m)], 1);
      v = tf.concat([v, splitHeads(cv, m)], 1);
      // No bias for the pixels' own keys, the given bias for the words, the same for every head.
      const tokenBias = tf.reshape(tf.tile(tf.reshape(context.bias, [n, 1, 1, m]), [1, heads, 1, 1]), [n * heads, 1, m]);
      bias = tf.concat([tf.zeros([n * heads, 1, p]), tokenBias], 2);
    } else if (context && !this.contextKv) {
      throw new Error('SpatialAttention: text tokens were given to a layer built without a context dimension');
    }
    let logits = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
    if (bias) logits = tf.add(logits, bias);
    const out = tf.matMul(tf.softmax(logits), v); // [N*heads, P, d]
    const merged = tf.reshape(tf.transpose(tf.reshape(out, [n, heads, p, d]), [0, 2, 1, 3]), [n * p, c]) as tf.Tensor2D;
    return tf.add(x, tf.reshape(this.proj.forward(merged), [n, h, w, c]));
  }
}
