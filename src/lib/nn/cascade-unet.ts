import { tf } from '../backend/tf';
import { Rng } from '../random';
import { AttentionContext, SpatialAttention } from './attention';
import { ScalarEmbedding } from './embedding';
import { BatchNorm2d, Conv2d, gelu, Linear } from './layers';
import { ForwardContext, Module } from './module';
import { Downsample, ResBlock, Upsample } from './res-block';

/**
 * The UNet of the built-in text-to-image cascade, a miniature of DeepFloyd IF's: residual blocks
 * with scale-shift conditioning at every resolution, attention (over pixels and text tokens) at
 * the coarse ones, skip connections from each block on the way down to one on the way up.
 *
 * Stage I: x_t (RGB) -> eps, conditioned on t and the text (pooled vector + tokens).
 * Stage II: [x_t, upsampled low-res image] -> eps, conditioned on t and the augmentation level
 * of the low-res image; fully convolutional (no attention), so it can train on crops.
 */
export interface CascadeUNetConfig {
  /** Image channels of x_t and of the output (3). */
  channels: number;
  /** Widths per level; level 0 is full resolution, each next level half of it. */
  widths: number[];
  /** Residual blocks per level on the way down (one more on the way up, for the extra skip). */
  blocksPerLevel: number;
  /** Levels with an attention layer after each residual block. */
  attentionLevels: number[];
  /** An attention layer between the two middle residual blocks (IF's mid-block attention). */
  midAttention: boolean;
  /** Channels per attention head. */
  headDim: number;
  /** Text conditioning: size of the pooled text vector and of the token features (0 = none). */
  pooledDim: number;
  contextDim: number;
  /** Stage II: x_t is concatenated with the upsampled low-res image, and the augmentation level conditions. */
  lowResInput: boolean;
  /** Size of the timestep's sinusoidal features (the embedding is 4 x widths[0]). */
  timeFeatures: number;
}

export interface CascadeUNetInputs {
  /** Noisy images [N, H, W, channels]. */
  x: tf.Tensor4D;
  /** Integer timesteps, one per image (0..T-1). */
  t: ArrayLike<number>;
  /** Text: pooled vector [N, pooledDim] and tokens for attention. */
  pooled?: tf.Tensor2D;
  context?: AttentionContext;
  /** Stage II: the upsampled (and noise-augmented) low-res image [N, H, W, channels]. */
  lowRes?: tf.Tensor4D;
  /** Stage II: augmentation timestep of the low-res image, one per image. */
  augLevel?: ArrayLike<number>;
}

type Step =
  | { kind: 'res'; block: ResBlock; attn?: SpatialAttention; skipIn: boolean; push: boolean }
  | { kind: 'down'; block: Downsample }
  | { kind: 'up'; block: Upsample };

export class CascadeUNet extends Module {
  private readonly timeEmbed: ScalarEmbedding;
  private readonly textProj?: Linear;
  private readonly augEmbed?: ScalarEmbedding;
  private readonly inConv: Conv2d;
  private readonly down: Step[] = [];
  private readonly mid: Step[] = [];
  private readonly up: Step[] = [];
  private readonly outNorm: BatchNorm2d;
  private readonly outConv: Conv2d;
  readonly embedDim: number;

  constructor(
    readonly config: CascadeUNetConfig,
    rng: Rng,
  ) {
    super();
    const { widths, blocksPerLevel, attentionLevels, channels } = config;
    if (widths.length < 1 || widths.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`CascadeUNet: widths must be positive integers, got ${widths}`);
    const emb = (this.embedDim = 4 * widths[0]);
    this.timeEmbed = this.addChild('time_embed', new ScalarEmbedding(rng, config.timeFeatures, emb));
    if (config.pooledDim > 0) this.textProj = this.addChild('text_proj', new Linear(rng, config.pooledDim, emb));
    if (config.lowResInput) this.augEmbed = this.addChild('aug_embed', new ScalarEmbedding(rng, config.timeFeatures, emb));
    this.inConv = this.addChild('in_conv', new Conv2d(rng, config.lowResInput ? 2 * channels : channels, widths[0], 3, 1, 1));

    const attentionLayer = (width: number, name: string) =>
      this.addChild(name, new SpatialAttention(rng, width, Math.max(1, width / config.headDim), config.contextDim));
    const attention = (level: number, width: number, name: string) => (attentionLevels.includes(level) ? attentionLayer(width, name) : undefined);
    // Channels of each skip, in the order they are pushed.
    const skips: number[] = [widths[0]];
    let ch = widths[0];
    widths.forEach((w, level) => {
      for (let b = 0; b < blocksPerLevel; b++) {
        const block = this.addChild(`down${level}_res${b}`, new ResBlock(rng, ch, w, emb));
        this.down.push({ kind: 'res', block, attn: attention(level, w, `down${level}_attn${b}`), skipIn: false, push: true });
        ch = w;
        skips.push(ch);
      }
      if (level < widths.length - 1) {
        this.down.push({ kind: 'down', block: this.addChild(`down${level}_sample`, new Downsample(rng, ch)) });
        skips.push(ch);
      }
    });
    const midAttn = config.midAttention ? attentionLayer(ch, 'mid_attn') : undefined;
    this.mid.push({ kind: 'res', block: this.addChild('mid_res0', new ResBlock(rng, ch, ch, emb)), attn: midAttn, skipIn: false, push: false });
    this.mid.push({ kind: 'res', block: this.addChild('mid_res1', new ResBlock(rng, ch, ch, emb)), skipIn: false, push: false });
    for (let level = widths.length - 1; level >= 0; level--) {
      const w = widths[level];
      for (let b = 0; b <= blocksPerLevel; b++) {
        const skip = skips.pop()!;
        const block = this.addChild(`up${level}_res${b}`, new ResBlock(rng, ch + skip, w, emb));
        this.up.push({ kind: 'res', block, attn: attention(level, w, `up${level}_attn${b}`), skipIn: true, push: false });
        ch = w;
      }
      if (level > 0) this.up.push({ kind: 'up', block: this.addChild(`up${level}_sample`, new Upsample(rng, ch)) });
    }
    this.outNorm = this.addChild('out_norm', new BatchNorm2d(ch));
    this.outConv = this.addChild('out_conv', new Conv2d(rng, ch, channels, 3, 1, 1));
  }

  /** How much smaller the coarsest level is than the input (images must be a multiple of it). */
  get downFactor(): number {
    return 2 ** (this.config.widths.length - 1);
  }

  forward(inputs: CascadeUNetInputs, ctx: ForwardContext = { training: false }): tf.Tensor4D {
    this.checkInputs(inputs);
    const { x, t, pooled, context, lowRes, augLevel } = inputs;
    let emb = this.timeEmbed.forward(t);
    if (this.textProj && pooled) emb = tf.add(emb, this.textProj.forward(pooled));
    if (this.augEmbed && augLevel) emb = tf.add(emb, this.augEmbed.forward(augLevel));
    const embAct = gelu(emb);
    let h = this.inConv.forward(lowRes ? tf.concat([x, lowRes], 3) : x);
    const skips: tf.Tensor4D[] = [h];
    const run = (step: Step) => {
      if (step.kind === 'down' || step.kind === 'up') {
        h = step.block.forward(h);
        if (step.kind === 'down') skips.push(h);
        return;
      }
      const input = step.skipIn ? tf.concat([h, skips.pop()!], 3) : h;
      h = step.block.forward(input, embAct, ctx);
      if (step.attn) h = step.attn.forward(h, ctx, context);
      if (step.push) skips.push(h);
    };
    for (const s of this.down) run(s);
    for (const s of this.mid) run(s);
    for (const s of this.up) run(s);
    return this.outConv.forward(gelu(this.outNorm.forward(h, ctx)));
  }

  private checkInputs({ x, t, pooled, context, lowRes, augLevel }: CascadeUNetInputs): void {
    const c = this.config;
    const [n, h, w, ch] = x.shape;
    if (x.rank !== 4 || ch !== c.channels || h % this.downFactor !== 0 || w % this.downFactor !== 0) {
      throw new Error(`CascadeUNet expects images [N, H, W, ${c.channels}] with H and W multiples of ${this.downFactor}, got [${x.shape.join(', ')}]`);
    }
    if (t.length !== n) throw new Error(`CascadeUNet: ${n} images but ${t.length} timesteps`);
    if (c.pooledDim > 0 && (!pooled || pooled.shape[0] !== n || pooled.shape[1] !== c.pooledDim)) {
      throw new Error(`This text-conditioned UNet needs pooled text features [${n}, ${c.pooledDim}]`);
    }
    if (c.contextDim > 0 && (c.attentionLevels.length > 0 || c.midAttention) && (!context || context.tokens.shape[0] !== n)) {
      throw new Error(`This text-conditioned UNet needs token features for ${n} images`);
    }
    if (c.lowResInput && (!lowRes || !augLevel || lowRes.shape.some((d, i) => d !== x.shape[i]) || augLevel.length !== n)) {
      throw new Error(`This super-resolution UNet needs the upsampled low-res images [${x.shape.join(', ')}] and one augmentation level per image`);
    }
  }
}
