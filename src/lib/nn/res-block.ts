import { tf } from '../backend/tf';
import { Rng } from '../random';
import { BatchNorm2d, Conv2d, ConvTranspose2d, gelu, Linear } from './layers';
import { ForwardContext, Module } from './module';

/**
 * The residual block of the cascade UNets (DDPM / DeepFloyd IF's ResBlock with "scale-shift
 * norm"): the conditioning vector scales and shifts the normalised features of the second conv.
 *
 *   h = conv1(GELU(BN1(x)));  h = BN2(h) * (1 + scale) + shift;  h = conv2(GELU(h));  out = skip(x) + h
 *
 * with [scale, shift] = Linear(emb) and skip a 1x1 conv when the width changes. BatchNorm rather
 * than GroupNorm because its kernels are the fast ones here (backend/fused-ops.ts), as in Part B.
 */
export class ResBlock extends Module {
  private readonly bn1: BatchNorm2d;
  private readonly conv1: Conv2d;
  private readonly film: Linear;
  private readonly bn2: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly skip?: Conv2d;

  constructor(
    rng: Rng,
    readonly inChannels: number,
    readonly outChannels: number,
    embedDim: number,
  ) {
    super();
    this.bn1 = this.addChild('bn1', new BatchNorm2d(inChannels));
    this.conv1 = this.addChild('conv1', new Conv2d(rng, inChannels, outChannels, 3, 1, 1));
    this.film = this.addChild('film', new Linear(rng, embedDim, 2 * outChannels));
    this.bn2 = this.addChild('bn2', new BatchNorm2d(outChannels));
    this.conv2 = this.addChild('conv2', new Conv2d(rng, outChannels, outChannels, 3, 1, 1));
    if (inChannels !== outChannels) this.skip = this.addChild('skip', new Conv2d(rng, inChannels, outChannels, 1, 1, 0));
  }

  /** `emb` is the conditioning vector after its activation, [N, embedDim]. */
  forward(x: tf.Tensor4D, emb: tf.Tensor2D, ctx: ForwardContext): tf.Tensor4D {
    const n = x.shape[0];
    let h = this.conv1.forward(gelu(this.bn1.forward(x, ctx)));
    const film = tf.reshape(this.film.forward(emb), [n, 1, 1, 2 * this.outChannels]);
    const [scale, shift] = tf.split(film, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
    h = tf.add(tf.mul(this.bn2.forward(h, ctx), tf.add(scale, 1)), shift);
    h = this.conv2.forward(gelu(h));
    return tf.add(this.skip ? this.skip.forward(x) : x, h);
  }
}

/** Halves height and width: a 3x3 conv with stride 2. */
export class Downsample extends Module {
  private readonly conv: Conv2d;
  constructor(rng: Rng, channels: number) {
    super();
    this.conv = this.addChild('conv', new Conv2d(rng, channels, channels, 3, 2, 1));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.forward(x);
  }
}

/** Doubles height and width: a 4x4 transposed conv with stride 2 (Part B's UpConv without BN). */
export class Upsample extends Module {
  private readonly conv: ConvTranspose2d;
  constructor(rng: Rng, channels: number) {
    super();
    this.conv = this.addChild('conv', new ConvTranspose2d(rng, channels, channels, 4, 2, 1));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.forward(x);
  }
}
