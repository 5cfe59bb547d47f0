import { tf } from '../backend/tf';
import { Rng } from '../random';
import { concat, ConvBlock, DownBlock, FCBlock, flatten, Unflatten, UpBlock } from './blocks';
import { Conv2d } from './layers';
import { ForwardContext, Module } from './module';

/** Which inputs a UNet takes besides the image. */
export type Conditioning = 'none' | 'time' | 'class';

export interface UNetConfig {
  /** Hidden width D. */
  hidden: number;
  conditioning: Conditioning;
  /** Image channels in and out (1 for MNIST). */
  channels?: number;
  /** Number of classes for class conditioning (10 digits). */
  numClasses?: number;
}

export interface UNetInputs {
  /** Images, NHWC [N, 28, 28, C]. */
  x: tf.Tensor4D;
  /** Normalised timestep t / T in [0, 1], shape [N, 1] (time and class conditioning). */
  t?: tf.Tensor2D;
  /** One-hot class vectors [N, numClasses]; an all-zero row means "unconditional". */
  c?: tf.Tensor2D;
}

/**
 * The UNet of SPEC Part B, in one of three flavours: unconditional (the single-step denoiser),
 * time-conditioned, and class-conditioned (time + class). Input and output are [N, 28, 28, C].
 *
 *   x -> ConvBlock -> e1 (D, 28) -> DownBlock -> e2 (D, 14) -> DownBlock -> e3 (2D, 7)
 *     -> Flatten (2D, 1) -> Unflatten -> u (2D, 7) [u = c1 * u + t1]
 *     -> UpBlock(concat(u, e3)) -> d1 (D, 14) [d1 = c2 * d1 + t2]
 *     -> UpBlock(concat(d1, e2)) -> d2 (D, 28) -> ConvBlock(concat(d2, e1)) -> Conv2d(3x3) -> C
 */
export class UNet extends Module {
  /** Height and width of the images it takes: two 2x downsamplings to 7x7, then a 7x7 average pool. */
  static readonly IMAGE_SIZE = 28;
  readonly imageSize = UNet.IMAGE_SIZE;
  readonly config: Required<UNetConfig>;
  private readonly inBlock: ConvBlock;
  private readonly down1: DownBlock;
  private readonly down2: DownBlock;
  private readonly unflatten: Unflatten;
  private readonly up1: UpBlock;
  private readonly up2: UpBlock;
  private readonly outBlock: ConvBlock;
  private readonly outConv: Conv2d;
  private readonly t1?: FCBlock;
  private readonly t2?: FCBlock;
  private readonly c1?: FCBlock;
  private readonly c2?: FCBlock;

  constructor(config: UNetConfig, rng: Rng) {
    super();
    const D = config.hidden;
    if (!Number.isInteger(D) || D < 1) throw new Error(`UNet: hidden width D must be a positive integer, got ${D}`);
    this.config = { channels: 1, numClasses: 10, ...config };
    const C = this.config.channels;
    this.inBlock = this.addChild('in_block', new ConvBlock(rng, C, D));
    this.down1 = this.addChild('down1', new DownBlock(rng, D, D));
    this.down2 = this.addChild('down2', new DownBlock(rng, D, 2 * D));
    this.unflatten = this.addChild('unflatten', new Unflatten(rng, 2 * D));
    this.up1 = this.addChild('up1', new UpBlock(rng, 4 * D, D));
    this.up2 = this.addChild('up2', new UpBlock(rng, 2 * D, D));
    this.outBlock = this.addChild('out_block', new ConvBlock(rng, 2 * D, D));
    this.outConv = this.addChild('out_conv', new Conv2d(rng, D, C, 3, 1, 1));
    if (config.conditioning !== 'none') {
      this.t1 = this.addChild('t1', new FCBlock(rng, 1, 2 * D));
      this.t2 = this.addChild('t2', new FCBlock(rng, 1, D));
    }
    if (config.conditioning === 'class') {
      this.c1 = this.addChild('c1', new FCBlock(rng, this.config.numClasses, 2 * D));
      this.c2 = this.addChild('c2', new FCBlock(rng, this.config.numClasses, D));
    }
  }

  forward(inputs: UNetInputs, ctx: ForwardContext = { training: false }): tf.Tensor4D {
    const { x, t, c } = inputs;
    this.checkInputs(inputs);
    const e1 = this.inBlock.forward(x, ctx);
    const e2 = this.down1.forward(e1, ctx);
    const e3 = this.down2.forward(e2, ctx);
    let u = this.unflatten.forward(flatten(e3), ctx);
    if (this.c1 && c) u = tf.mul(u, asMap(this.c1.forward(c)));
    if (this.t1 && t) u = tf.add(u, asMap(this.t1.forward(t)));
    let d1 = this.up1.forward(concat(u, e3), ctx);
    if (this.c2 && c) d1 = tf.mul(d1, asMap(this.c2.forward(c)));
    if (this.t2 && t) d1 = tf.add(d1, asMap(this.t2.forward(t)));
    const d2 = this.up2.forward(concat(d1, e2), ctx);
    return this.outConv.forward(this.outBlock.forward(concat(d2, e1), ctx));
  }

  private checkInputs({ x, t, c }: UNetInputs): void {
    const { channels, conditioning, numClasses } = this.config;
    const size = this.imageSize;
    if (x.rank !== 4 || x.shape[1] !== size || x.shape[2] !== size || x.shape[3] !== channels) {
      throw new Error(
        `UNet expects images of shape [N, ${size}, ${size}, ${channels}] (NHWC), got [${x.shape.join(', ')}]. ` +
          `Resize MNIST-style inputs to ${size}x${size} and put channels last.`,
      );
    }
    const n = x.shape[0];
    if (conditioning !== 'none' && (!t || t.shape[0] !== n || t.shape[1] !== 1)) {
      throw new Error(`This ${conditioning}-conditioned UNet needs t of shape [${n}, 1] (t / T in [0, 1]).`);
    }
    if (conditioning === 'class' && (!c || c.shape[0] !== n || c.shape[1] !== numClasses)) {
      throw new Error(`This class-conditioned UNet needs one-hot c of shape [${n}, ${numClasses}].`);
    }
  }
}

/** [N, F] -> [N, 1, 1, F] so it broadcasts over the feature map. */
function asMap(v: tf.Tensor2D): tf.Tensor4D {
  return tf.reshape(v, [v.shape[0], 1, 1, v.shape[1]]);
}
