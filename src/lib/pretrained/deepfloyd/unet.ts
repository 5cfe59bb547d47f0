import { tf } from '../../backend/tf';
import { IFUNetConfig, downsampleCount } from './config';
import { Architecture, AttentionSpec, BlockSpec, ResnetSpec, architecture } from './architecture';
import { activation, attend, avgPool2, conv2d, groupNorm, layerNorm, linear, mergeHeads, splitHeads, timestepFeatures, upsampleNearest2 } from './layers';
import { IFWeights } from './weights';

/**
 * The DeepFloyd IF stage-I UNet (diffusers UNet2DConditionModel with IF's options) in NHWC:
 * sinusoidal time features -> MLP, plus an attention-pooled text embedding; the text states
 * projected to the attention width; resnets with scale-shift time conditioning; attention over
 * the image tokens and the text tokens together; resampling by resnets; a skip per resnet.
 */

/** Names of the per-block outputs that forward() can report (the reference fixtures' names). */
export type IntermediateName = string;

/** Attention's own GroupNorm eps (diffusers' Attention default; not norm_eps). */
const ATTENTION_NORM_EPS = 1e-5;
/** norm_cross groups (diffusers' cross_attention_norm_num_groups default). */
const CROSS_NORM_GROUPS = 32;
/** nn.LayerNorm's default eps, used by the text pooling embedding. */
const LAYER_NORM_EPS = 1e-5;

export class IFUNet {
  readonly arch: Architecture;

  constructor(
    readonly config: IFUNetConfig,
    readonly weights: IFWeights,
  ) {
    this.arch = architecture(config);
  }

  private w<T extends tf.Tensor>(name: string): T {
    return this.weights.get<T>(name);
  }

  private lin(x: tf.Tensor, name: string): tf.Tensor {
    return linear(x, this.w(`${name}.weight`), this.w(`${name}.bias`));
  }

  private norm(x: tf.Tensor, name: string, groups: number, eps: number): tf.Tensor {
    return groupNorm(x, groups, eps, this.w(`${name}.weight`), this.w(`${name}.bias`));
  }

  private act<T extends tf.Tensor>(x: T): T {
    return activation(this.config.act, x);
  }

  /**
   * One UNet call.
   * @param sample x_t, [B, H, W, in_channels] (H, W divisible by 2^(levels-1))
   * @param timesteps one timestep per batch element
   * @param text encoder states [B, L, encoder_hid_dim] (T5-XXL: [B, 77, 4096])
   * @param record when given, receives a copy of each block's output (NHWC for image tensors)
   * @returns [B, H, W, out_channels]
   */
  forward(sample: tf.Tensor4D, timesteps: number[], text: tf.Tensor3D, record?: Map<IntermediateName, tf.Tensor>): tf.Tensor4D {
    this.checkInputs(sample, timesteps, text);
    return tf.tidy(() => {
      const keep = (name: string, t: tf.Tensor) => {
        if (record !== undefined) record.set(name, tf.keep(tf.clone(t)));
      };
      const c = this.config;

      // Time embedding, plus the pooled text embedding.
      const tFeatures = timestepFeatures(timesteps, c.blockOutChannels[0], c.flipSinToCos, c.freqShift);
      keep('time_proj', tFeatures);
      let emb = this.lin(this.act(this.lin(tFeatures, 'time_embedding.linear_1')), 'time_embedding.linear_2') as tf.Tensor2D;
      keep('time_embedding', emb);
      if (c.additionEmbedType === 'text') {
        const aug = this.textTimeEmbedding(text);
        keep('add_embedding', aug);
        emb = tf.add(emb, aug) as tf.Tensor2D;
      }

      let context: tf.Tensor = text;
      if (c.encoderHidDim !== null) {
        context = this.lin(text, 'encoder_hid_proj');
        keep('encoder_hid_proj', context);
      }

      let h = conv2d(sample, this.w('conv_in.weight'), this.w('conv_in.bias'));
      keep('conv_in', h);
      const skips: tf.Tensor4D[] = [h];
      this.arch.down.forEach((block, i) => {
        h = this.downBlock(block, h, emb, context, skips);
        keep(`down_blocks.${i}`, h);
      });

      h = this.resnet(this.arch.mid.resnets[0], h, emb);
      this.arch.mid.attentions.forEach((a, j) => {
        h = this.attention(a, h, context);
        h = this.resnet(this.arch.mid.resnets[j + 1], h, emb);
      });
      keep('mid_block', h);

      this.arch.up.forEach((block, i) => {
        h = this.upBlock(block, h, emb, context, skips);
        keep(`up_blocks.${i}`, h);
      });

      const normed = this.norm(h, 'conv_norm_out', c.normNumGroups, c.normEps) as tf.Tensor4D;
      keep('conv_norm_out', normed);
      return conv2d(this.act(normed), this.w('conv_out.weight'), this.w('conv_out.bias'));
    });
  }

  private checkInputs(sample: tf.Tensor4D, timesteps: number[], text: tf.Tensor3D): void {
    const c = this.config;
    const [b, h, w, ch] = sample.shape;
    const factor = 2 ** downsampleCount(c);
    if (sample.rank !== 4 || ch !== c.inChannels) {
      throw new Error(`IF UNet: the sample must be [B, H, W, ${c.inChannels}] (NHWC), got [${sample.shape.join(', ')}].`);
    }
    if (h % factor !== 0 || w % factor !== 0) {
      throw new Error(
        `IF UNet: image size ${h}x${w} must be divisible by ${factor} (the UNet halves it ${downsampleCount(c)} times); use e.g. ${c.sampleSize}x${c.sampleSize}.`,
      );
    }
    if (timesteps.length !== b) throw new Error(`IF UNet: got ${timesteps.length} timesteps for a batch of ${b}; give one per image.`);
    const width = c.encoderHidDim ?? c.crossAttentionDim;
    if (text.rank !== 3 || text.shape[0] !== b || text.shape[2] !== width) {
      throw new Error(`IF UNet: the text states must be [${b}, L, ${width}] (batch, tokens, width), got [${text.shape.join(', ')}].`);
    }
  }

  /** TextTimeEmbedding: LayerNorm, attention pooling to one vector, linear, LayerNorm. */
  private textTimeEmbedding(text: tf.Tensor3D): tf.Tensor2D {
    const p = 'add_embedding';
    const x = layerNorm(text, LAYER_NORM_EPS, this.w(`${p}.norm1.weight`), this.w(`${p}.norm1.bias`)) as tf.Tensor3D;
    const heads = this.config.additionEmbedNumHeads;
    const [b, , d] = x.shape;
    // The mean token plus a learned position is the query; keys and values see it and every token.
    const cls = tf.add(tf.mean(x, 1, true), this.w(`${p}.pool.positional_embedding`));
    const tokens = tf.concat([cls, x], 1);
    const q = splitHeads(this.lin(cls, `${p}.pool.q_proj`), heads);
    const k = splitHeads(this.lin(tokens, `${p}.pool.k_proj`), heads);
    const v = splitHeads(this.lin(tokens, `${p}.pool.v_proj`), heads);
    const pooled = tf.reshape(mergeHeads(attend(q, k, v, 1 / Math.sqrt(d / heads))), [b, d]);
    const projected = this.lin(pooled, `${p}.proj`);
    return layerNorm(projected, LAYER_NORM_EPS, this.w(`${p}.norm2.weight`), this.w(`${p}.norm2.bias`)) as tf.Tensor2D;
  }

  /** ResnetBlock2D: norm, act, (resample), conv, time scale-shift, norm, act, conv, plus the (resampled, projected) input. */
  private resnet(r: ResnetSpec, x: tf.Tensor4D, emb: tf.Tensor2D): tf.Tensor4D {
    const c = this.config;
    const p = r.prefix;
    let h = this.act(this.norm(x, `${p}.norm1`, c.normNumGroups, c.normEps) as tf.Tensor4D);
    let input = x;
    if (r.resample === 'down') {
      h = avgPool2(h);
      input = avgPool2(input);
    } else if (r.resample === 'up') {
      h = upsampleNearest2(h);
      input = upsampleNearest2(input);
    }
    h = conv2d(h, this.w(`${p}.conv1.weight`), this.w(`${p}.conv1.bias`));
    const t = this.lin(c.resnetSkipTimeAct ? emb : this.act(emb), `${p}.time_emb_proj`);
    const [b] = t.shape;
    if (c.resnetTimeScaleShift === 'scale_shift') {
      const [scale, shift] = tf.split(t, 2, 1);
      h = this.norm(h, `${p}.norm2`, c.normNumGroups, c.normEps) as tf.Tensor4D;
      h = tf.add(tf.mul(h, tf.reshape(tf.add(scale, 1), [b, 1, 1, r.outChannels])), tf.reshape(shift, [b, 1, 1, r.outChannels]));
    } else {
      h = tf.add(h, tf.reshape(t, [b, 1, 1, r.outChannels]));
      h = this.norm(h, `${p}.norm2`, c.normNumGroups, c.normEps) as tf.Tensor4D;
    }
    h = conv2d(this.act(h), this.w(`${p}.conv2.weight`), this.w(`${p}.conv2.bias`));
    if (r.inChannels !== r.outChannels) input = conv2d(input, this.w(`${p}.conv_shortcut.weight`), this.w(`${p}.conv_shortcut.bias`));
    const sum = tf.add(input, h);
    return (c.resnetOutScaleFactor === 1 ? sum : tf.div(sum, c.resnetOutScaleFactor)) as tf.Tensor4D;
  }

  /**
   * Attention with added text keys and values (AttnAddedKVProcessor): queries from the
   * group-normalised image tokens; keys and values from the text tokens followed by the image
   * tokens; output projection plus the residual.
   */
  private attention(a: AttentionSpec, x: tf.Tensor4D, context: tf.Tensor): tf.Tensor4D {
    const c = this.config;
    const p = a.prefix;
    const [b, h, w, ch] = x.shape;
    const tokens = tf.reshape(x, [b, h * w, ch]);
    let text = context;
    if (c.crossAttentionNorm === 'group_norm') text = this.norm(text, `${p}.norm_cross`, CROSS_NORM_GROUPS, ATTENTION_NORM_EPS);
    const normed = this.norm(tokens, `${p}.group_norm`, c.normNumGroups, ATTENTION_NORM_EPS);
    const q = splitHeads(this.lin(normed, `${p}.to_q`), a.heads);
    const k = tf.concat([splitHeads(this.lin(text, `${p}.add_k_proj`), a.heads), splitHeads(this.lin(normed, `${p}.to_k`), a.heads)], 2);
    const v = tf.concat([splitHeads(this.lin(text, `${p}.add_v_proj`), a.heads), splitHeads(this.lin(normed, `${p}.to_v`), a.heads)], 2);
    const out = this.lin(mergeHeads(attend(q, k, v, 1 / Math.sqrt(a.headDim))), `${p}.to_out.0`);
    return tf.add(tf.reshape(out, [b, h, w, ch]), x);
  }

  private downBlock(block: BlockSpec, x: tf.Tensor4D, emb: tf.Tensor2D, context: tf.Tensor, skips: tf.Tensor4D[]): tf.Tensor4D {
    let h = x;
    block.resnets.forEach((r, j) => {
      h = this.resnet(r, h, emb);
      if (block.attentions.length > 0) h = this.attention(block.attentions[j], h, context);
      skips.push(h);
    });
    if (block.resampler) {
      h = this.resnet(block.resampler, h, emb);
      skips.push(h);
    }
    return h;
  }

  private upBlock(block: BlockSpec, x: tf.Tensor4D, emb: tf.Tensor2D, context: tf.Tensor, skips: tf.Tensor4D[]): tf.Tensor4D {
    let h = x;
    block.resnets.forEach((r, j) => {
      const skip = skips.pop();
      if (skip === undefined) throw new Error('IF UNet: ran out of skip connections; the architecture is inconsistent.');
      h = this.resnet(r, tf.concat([h, skip], 3), emb);
      if (block.attentions.length > 0) h = this.attention(block.attentions[j], h, context);
    });
    if (block.resampler) h = this.resnet(block.resampler, h, emb);
    return h;
  }
}
