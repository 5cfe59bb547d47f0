import { tf } from '../backend/tf';
import { Rng } from '../random';
import { BatchNorm2d, Conv2d, ConvTranspose2d, gelu, Linear } from './layers';
import { ForwardContext, Module } from './module';

/**
 * The ten operations of the Part B UNet (SPEC, "Operations"). Each block keeps PyTorch's
 * structure so parameter counts match the original: conv (+bias) -> BatchNorm -> GELU.
 */

/** conv (or transposed conv) -> BatchNorm -> GELU: the shape shared by operations 1, 2, 3 and 5. */
abstract class ConvBnGelu extends Module {
  private readonly conv: Conv2d | ConvTranspose2d;
  private readonly bn: BatchNorm2d;
  protected constructor(conv: Conv2d | ConvTranspose2d) {
    super();
    this.conv = this.addChild('conv', conv);
    this.bn = this.addChild('bn', new BatchNorm2d(conv.outChannels));
  }
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return gelu(this.bn.forward(this.conv.forward(x), ctx));
  }
}

/** 1. Conv: 3x3 conv, stride 1, padding 1 + BatchNorm + GELU (size kept). */
export class Conv extends ConvBnGelu {
  constructor(rng: Rng, inC: number, outC: number) {
    super(new Conv2d(rng, inC, outC, 3, 1, 1));
  }
}

/** 2. DownConv: 3x3 conv, stride 2, padding 1 + BatchNorm + GELU (halves H and W). */
export class DownConv extends ConvBnGelu {
  constructor(rng: Rng, inC: number, outC: number) {
    super(new Conv2d(rng, inC, outC, 3, 2, 1));
  }
}

/** 3. UpConv: 4x4 transposed conv, stride 2, padding 1 + BatchNorm + GELU (doubles H and W). */
export class UpConv extends ConvBnGelu {
  constructor(rng: Rng, inC: number, outC: number) {
    super(new ConvTranspose2d(rng, inC, outC, 4, 2, 1));
  }
}

/** 4. Flatten: average pool over the whole 7x7 map + GELU (7x7 -> 1x1). No parameters. */
export function flatten(x: tf.Tensor4D): tf.Tensor4D {
  return gelu(tf.mean(x, [1, 2], true) as tf.Tensor4D);
}

/** 5. Unflatten: 7x7 transposed conv, stride 7 + BatchNorm + GELU (1x1 -> 7x7). */
export class Unflatten extends ConvBnGelu {
  constructor(rng: Rng, channels: number) {
    super(new ConvTranspose2d(rng, channels, channels, 7, 7, 0));
  }
}

/** 6. Concat: channel concatenation (NHWC: the last axis). */
export function concat(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.concat([a, b], 3);
}

/** 7. ConvBlock = Conv, Conv. */
export class ConvBlock extends Module {
  private readonly conv1: Conv;
  private readonly conv2: Conv;
  constructor(rng: Rng, inC: number, outC: number) {
    super();
    this.conv1 = this.addChild('conv1', new Conv(rng, inC, outC));
    this.conv2 = this.addChild('conv2', new Conv(rng, outC, outC));
  }
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return this.conv2.forward(this.conv1.forward(x, ctx), ctx);
  }
}

/** 8. DownBlock = DownConv, ConvBlock. */
export class DownBlock extends Module {
  private readonly down: DownConv;
  private readonly block: ConvBlock;
  constructor(rng: Rng, inC: number, outC: number) {
    super();
    this.down = this.addChild('down', new DownConv(rng, inC, outC));
    this.block = this.addChild('block', new ConvBlock(rng, outC, outC));
  }
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return this.block.forward(this.down.forward(x, ctx), ctx);
  }
}

/** 9. UpBlock = UpConv, ConvBlock. */
export class UpBlock extends Module {
  private readonly up: UpConv;
  private readonly block: ConvBlock;
  constructor(rng: Rng, inC: number, outC: number) {
    super();
    this.up = this.addChild('up', new UpConv(rng, inC, outC));
    this.block = this.addChild('block', new ConvBlock(rng, outC, outC));
  }
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return this.block.forward(this.up.forward(x, ctx), ctx);
  }
}

/** 10. FCBlock = Linear(F_in, F_out) + GELU, Linear(F_out, F_out). */
export class FCBlock extends Module {
  private readonly fc1: Linear;
  private readonly fc2: Linear;
  constructor(rng: Rng, inF: number, outF: number) {
    super();
    this.fc1 = this.addChild('fc1', new Linear(rng, inF, outF));
    this.fc2 = this.addChild('fc2', new Linear(rng, outF, outF));
  }
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return this.fc2.forward(gelu(this.fc1.forward(x)));
  }
}
