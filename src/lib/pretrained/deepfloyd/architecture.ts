import { IFUNetConfig } from './config';

/**
 * The layout of the IF UNet derived from its config: which resnets and attentions exist, their
 * widths, and the reference (diffusers) name of each. The forward pass (unet.ts) walks this
 * layout, and the weight loader checks files against expectedParameters() built from it.
 */

export interface ResnetSpec {
  /** Reference name prefix, e.g. "down_blocks.1.resnets.0". */
  prefix: string;
  inChannels: number;
  outChannels: number;
  /** A resampling resnet (diffusers' down=True / up=True): average-pool or nearest-upsample inside. */
  resample?: 'down' | 'up';
}

export interface AttentionSpec {
  prefix: string;
  channels: number;
  heads: number;
  headDim: number;
}

export interface BlockSpec {
  prefix: string;
  resnets: ResnetSpec[];
  /** Empty for the plain resnet blocks; otherwise one attention after each resnet. */
  attentions: AttentionSpec[];
  resampler?: ResnetSpec;
}

export interface MidBlockSpec {
  /** resnets[0], then attention i followed by resnets[i + 1]. */
  resnets: ResnetSpec[];
  attentions: AttentionSpec[];
}

export interface Architecture {
  down: BlockSpec[];
  mid: MidBlockSpec;
  up: BlockSpec[];
}

function attention(prefix: string, channels: number, headDim: number): AttentionSpec {
  return { prefix, channels, heads: channels / headDim, headDim };
}

export function architecture(c: IFUNetConfig): Architecture {
  const ch = c.blockOutChannels;
  const levels = ch.length;
  const down: BlockSpec[] = [];
  let out = ch[0];
  for (let i = 0; i < levels; i++) {
    const inCh = out;
    out = ch[i];
    const prefix = `down_blocks.${i}`;
    const withAttention = c.downBlockTypes[i] === 'SimpleCrossAttnDownBlock2D';
    const block: BlockSpec = { prefix, resnets: [], attentions: [] };
    for (let j = 0; j < c.layersPerBlock[i]; j++) {
      block.resnets.push({ prefix: `${prefix}.resnets.${j}`, inChannels: j === 0 ? inCh : out, outChannels: out });
      if (withAttention) block.attentions.push(attention(`${prefix}.attentions.${j}`, out, c.attentionHeadDim[i]));
    }
    if (i < levels - 1) block.resampler = { prefix: `${prefix}.downsamplers.0`, inChannels: out, outChannels: out, resample: 'down' };
    down.push(block);
  }

  const last = ch[levels - 1];
  const mid: MidBlockSpec = {
    resnets: [0, 1].map((j) => ({ prefix: `mid_block.resnets.${j}`, inChannels: last, outChannels: last })),
    attentions: [attention('mid_block.attentions.0', last, c.attentionHeadDim[levels - 1])],
  };

  const up: BlockSpec[] = [];
  const reversed = [...ch].reverse();
  const reversedLayers = [...c.layersPerBlock].reverse();
  out = reversed[0];
  for (let i = 0; i < levels; i++) {
    const prevOut = out;
    out = reversed[i];
    const skipIn = reversed[Math.min(i + 1, levels - 1)];
    const prefix = `up_blocks.${i}`;
    const withAttention = c.upBlockTypes[i] === 'SimpleCrossAttnUpBlock2D';
    const block: BlockSpec = { prefix, resnets: [], attentions: [] };
    const layers = reversedLayers[i] + 1;
    for (let j = 0; j < layers; j++) {
      const skip = j === layers - 1 ? skipIn : out;
      const inCh = j === 0 ? prevOut : out;
      block.resnets.push({ prefix: `${prefix}.resnets.${j}`, inChannels: inCh + skip, outChannels: out });
      // diffusers passes attention_head_dim[i] (not reversed) to up block i.
      if (withAttention) block.attentions.push(attention(`${prefix}.attentions.${j}`, out, c.attentionHeadDim[i]));
    }
    if (i < levels - 1) block.resampler = { prefix: `${prefix}.upsamplers.0`, inChannels: out, outChannels: out, resample: 'up' };
    up.push(block);
  }
  return { down, mid, up };
}

/** Reference parameter names and their reference (PyTorch) shapes, in a stable order. */
export function expectedParameters(c: IFUNetConfig): Map<string, number[]> {
  const p = new Map<string, number[]>();
  const linear = (name: string, inF: number, outF: number) => {
    p.set(`${name}.weight`, [outF, inF]);
    p.set(`${name}.bias`, [outF]);
  };
  const conv = (name: string, inC: number, outC: number, k: number) => {
    p.set(`${name}.weight`, [outC, inC, k, k]);
    p.set(`${name}.bias`, [outC]);
  };
  const norm = (name: string, n: number) => {
    p.set(`${name}.weight`, [n]);
    p.set(`${name}.bias`, [n]);
  };
  const temb = c.timeEmbedDim;
  const resnet = (r: ResnetSpec) => {
    norm(`${r.prefix}.norm1`, r.inChannels);
    conv(`${r.prefix}.conv1`, r.inChannels, r.outChannels, 3);
    linear(`${r.prefix}.time_emb_proj`, temb, c.resnetTimeScaleShift === 'scale_shift' ? 2 * r.outChannels : r.outChannels);
    norm(`${r.prefix}.norm2`, r.outChannels);
    conv(`${r.prefix}.conv2`, r.outChannels, r.outChannels, 3);
    if (r.inChannels !== r.outChannels) conv(`${r.prefix}.conv_shortcut`, r.inChannels, r.outChannels, 1);
  };
  const attn = (a: AttentionSpec) => {
    norm(`${a.prefix}.group_norm`, a.channels);
    if (c.crossAttentionNorm === 'group_norm') norm(`${a.prefix}.norm_cross`, c.crossAttentionDim);
    const inner = a.heads * a.headDim;
    linear(`${a.prefix}.to_q`, a.channels, inner);
    linear(`${a.prefix}.to_k`, a.channels, inner);
    linear(`${a.prefix}.to_v`, a.channels, inner);
    linear(`${a.prefix}.add_k_proj`, c.crossAttentionDim, inner);
    linear(`${a.prefix}.add_v_proj`, c.crossAttentionDim, inner);
    linear(`${a.prefix}.to_out.0`, inner, a.channels);
  };

  const ch0 = c.blockOutChannels[0];
  conv('conv_in', c.inChannels, ch0, c.convInKernel);
  linear('time_embedding.linear_1', ch0, temb);
  linear('time_embedding.linear_2', temb, temb);
  if (c.encoderHidDim !== null) linear('encoder_hid_proj', c.encoderHidDim, c.crossAttentionDim);
  if (c.additionEmbedType === 'text') {
    const d = c.encoderHidDim ?? c.crossAttentionDim;
    norm('add_embedding.norm1', d);
    p.set('add_embedding.pool.positional_embedding', [1, d]);
    linear('add_embedding.pool.k_proj', d, d);
    linear('add_embedding.pool.q_proj', d, d);
    linear('add_embedding.pool.v_proj', d, d);
    linear('add_embedding.proj', d, temb);
    norm('add_embedding.norm2', temb);
  }
  const arch = architecture(c);
  const blocks: { resnets: ResnetSpec[]; attentions: AttentionSpec[]; resampler?: ResnetSpec }[] = [...arch.down, arch.mid, ...arch.up];
  for (const block of blocks) {
    block.resnets.forEach(resnet);
    block.attentions.forEach(attn);
    if (block.resampler) resnet(block.resampler);
  }
  norm('conv_norm_out', ch0);
  conv('conv_out', ch0, c.outChannels, c.convOutKernel);
  return p;
}

export function parameterCount(params: Map<string, number[]>): number {
  let n = 0;
  for (const shape of params.values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
