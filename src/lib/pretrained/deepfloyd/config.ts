import * as fs from 'fs';

/**
 * The DeepFloyd IF stage-I UNet configuration, read from a diffusers `unet/config.json`
 * (UNet2DConditionModel). Only the options IF uses are supported; every other value of an option
 * that changes the network is refused with a message naming it, so a config the port cannot run
 * exactly never loads silently.
 */

export type DownBlockType = 'ResnetDownsampleBlock2D' | 'SimpleCrossAttnDownBlock2D';
export type UpBlockType = 'ResnetUpsampleBlock2D' | 'SimpleCrossAttnUpBlock2D';
export type Activation = 'gelu' | 'silu';

export interface IFUNetConfig {
  sampleSize: number;
  inChannels: number;
  outChannels: number;
  downBlockTypes: DownBlockType[];
  upBlockTypes: UpBlockType[];
  blockOutChannels: number[];
  /** Resnets per down block (up blocks have one more). */
  layersPerBlock: number[];
  /** Channels per attention head, per down block (diffusers' `attention_head_dim`). */
  attentionHeadDim: number[];
  /** Width of the text states the attentions attend to (after encoder_hid_proj). */
  crossAttentionDim: number;
  /** Width of the raw text states (T5-XXL: 4096); null when there is no encoder_hid_proj. */
  encoderHidDim: number | null;
  /** 'text': the attention-pooled text embedding is added to the time embedding. */
  additionEmbedType: 'text' | null;
  additionEmbedNumHeads: number;
  /** Group-normalise the text states inside each attention ('group_norm') or not (null). */
  crossAttentionNorm: 'group_norm' | null;
  resnetTimeScaleShift: 'scale_shift' | 'default';
  act: Activation;
  normNumGroups: number;
  normEps: number;
  flipSinToCos: boolean;
  freqShift: number;
  timeEmbedDim: number;
  midBlockScaleFactor: number;
  resnetOutScaleFactor: number;
  resnetSkipTimeAct: boolean;
  convInKernel: number;
  convOutKernel: number;
}

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(
    private readonly json: Json,
    private readonly source: string,
  ) {}

  fail(key: string, problem: string, fix: string): never {
    throw new Error(`${this.source}: "${key}" ${problem}. ${fix}`);
  }

  unsupported(key: string, supported: string): never {
    this.fail(
      key,
      `is ${JSON.stringify(this.json[key])}, which the DeepFloyd IF port does not support`,
      `It supports ${supported} (the options of DeepFloyd IF stage I); use an IF stage-I unet/config.json.`,
    );
  }

  has(key: string): boolean {
    return this.json[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.json[key];
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is missing', 'Add it (a positive integer) or use the config.json that came with the weights.');
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      this.fail(key, `is ${JSON.stringify(v)}, not a positive integer`, 'Fix the value in config.json.');
    }
    return v;
  }

  number(key: string, fallback: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `is ${JSON.stringify(v)}, not a number`, 'Fix the value in config.json.');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, `is ${JSON.stringify(v)}, not true or false`, 'Fix the value in config.json.');
    return v;
  }

  /** An int, or a list of ints with one entry per block. */
  perBlock(key: string, blocks: number, fallback?: number): number[] {
    const v = this.json[key] ?? fallback;
    if (Array.isArray(v)) {
      if (v.length !== blocks || !v.every((x) => Number.isInteger(x) && x >= 1)) {
        this.fail(key, `is ${JSON.stringify(v)}`, `Give one positive integer, or a list of ${blocks} (one per block).`);
      }
      return v as number[];
    }
    return new Array<number>(blocks).fill(this.positiveInt(key, fallback));
  }

  /** Options that must keep their default (absent, null or the given value). */
  requireDefault(key: string, allowed: unknown[], supported: string): void {
    const v = this.json[key];
    if (v === undefined || v === null) return;
    if (!allowed.includes(v)) this.unsupported(key, supported);
  }
}

/** Parses and checks a diffusers UNet2DConditionModel config for the IF stage-I architecture. */
export function parseIFUNetConfig(json: unknown, source = 'unet/config.json'): IFUNetConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON object (a diffusers UNet2DConditionModel config). Use the unet/config.json of a DeepFloyd IF model folder.`);
  }
  const r: ConfigReader = new ConfigReader(json as Json, source);
  const className = r.raw('_class_name');
  if (className !== undefined && className !== 'UNet2DConditionModel') {
    r.fail('_class_name', `is ${JSON.stringify(className)}`, 'The port runs UNet2DConditionModel only; point it at the unet/ folder of DeepFloyd IF stage I.');
  }

  const blockOutChannels = r.raw('block_out_channels');
  if (!Array.isArray(blockOutChannels) || blockOutChannels.length < 1 || !blockOutChannels.every((c) => Number.isInteger(c) && c >= 1)) {
    r.fail('block_out_channels', `is ${JSON.stringify(blockOutChannels)}`, 'Give a list of positive integers, one per resolution level.');
  }
  const levels = blockOutChannels.length;

  const down = r.raw('down_block_types');
  const up = r.raw('up_block_types');
  const downOk: string[] = ['ResnetDownsampleBlock2D', 'SimpleCrossAttnDownBlock2D'];
  const upOk: string[] = ['ResnetUpsampleBlock2D', 'SimpleCrossAttnUpBlock2D'];
  if (!Array.isArray(down) || down.length !== levels || !down.every((t) => downOk.includes(t))) {
    r.fail('down_block_types', `is ${JSON.stringify(down)}`, `The port supports ${downOk.join(' and ')}, one per entry of block_out_channels (${levels}).`);
  }
  if (!Array.isArray(up) || up.length !== levels || !up.every((t) => upOk.includes(t))) {
    r.fail('up_block_types', `is ${JSON.stringify(up)}`, `The port supports ${upOk.join(' and ')}, one per entry of block_out_channels (${levels}).`);
  }
  const mid = r.raw('mid_block_type') ?? 'UNetMidBlock2DCrossAttn';
  if (mid !== 'UNetMidBlock2DSimpleCrossAttn') r.unsupported('mid_block_type', '"UNetMidBlock2DSimpleCrossAttn"');

  const timeEmbeddingType = r.raw('time_embedding_type') ?? 'positional';
  if (timeEmbeddingType !== 'positional') r.unsupported('time_embedding_type', '"positional"');

  const encoderHidDimType = r.raw('encoder_hid_dim_type') ?? null;
  const encoderHidDim = r.raw('encoder_hid_dim') ?? null;
  if (encoderHidDimType !== null && encoderHidDimType !== 'text_proj') r.unsupported('encoder_hid_dim_type', '"text_proj" or null');
  if (encoderHidDim !== null && (!Number.isInteger(encoderHidDim) || (encoderHidDim as number) < 1)) {
    r.fail('encoder_hid_dim', `is ${JSON.stringify(encoderHidDim)}`, 'Give the width of the text encoder states (4096 for T5-XXL) or null.');
  }
  if (encoderHidDimType === 'text_proj' && encoderHidDim === null) {
    r.fail('encoder_hid_dim', 'is missing', 'encoder_hid_dim_type "text_proj" needs encoder_hid_dim (4096 for T5-XXL).');
  }

  const additionEmbedType = r.raw('addition_embed_type') ?? null;
  if (additionEmbedType !== null && additionEmbedType !== 'text') r.unsupported('addition_embed_type', '"text" or null');

  const crossAttentionNorm = r.raw('cross_attention_norm') ?? null;
  if (crossAttentionNorm !== null && crossAttentionNorm !== 'group_norm') r.unsupported('cross_attention_norm', '"group_norm" or null');

  const shift = r.raw('resnet_time_scale_shift') ?? 'default';
  if (shift !== 'scale_shift' && shift !== 'default') r.unsupported('resnet_time_scale_shift', '"scale_shift" or "default"');

  const actFn = r.raw('act_fn') ?? 'silu';
  if (actFn !== 'gelu' && actFn !== 'silu' && actFn !== 'swish') r.unsupported('act_fn', '"gelu", "silu" or "swish"');

  const normNumGroups = r.positiveInt('norm_num_groups', 32);
  const crossAttentionDim = r.raw('cross_attention_dim');
  if (!Number.isInteger(crossAttentionDim) || (crossAttentionDim as number) < 1) {
    r.fail('cross_attention_dim', `is ${JSON.stringify(crossAttentionDim)}`, 'The port needs one positive integer (IF-I-XL: 2816).');
  }

  // Options that change the network in ways IF does not use.
  r.requireDefault('class_embed_type', [], 'only null (no class embedding)');
  r.requireDefault('num_class_embeds', [], 'only null');
  r.requireDefault('time_cond_proj_dim', [], 'only null');
  r.requireDefault('timestep_post_act', [], 'only null');
  r.requireDefault('time_embedding_act_fn', [], 'only null');
  r.requireDefault('num_attention_heads', [], 'only null (IF sets attention_head_dim)');
  r.requireDefault('center_input_sample', [false], 'only false');
  r.requireDefault('only_cross_attention', [false], 'only false (IF attends to the image and the text together)');
  r.requireDefault('mid_block_only_cross_attention', [false], 'only null or false');
  r.requireDefault('dual_cross_attention', [false], 'only false');
  r.requireDefault('class_embeddings_concat', [false], 'only false');
  r.requireDefault('attention_type', ['default'], 'only "default"');

  const config: IFUNetConfig = {
    sampleSize: r.positiveInt('sample_size', 64),
    inChannels: r.positiveInt('in_channels', 4),
    outChannels: r.positiveInt('out_channels', 4),
    downBlockTypes: down as DownBlockType[],
    upBlockTypes: up as UpBlockType[],
    blockOutChannels: blockOutChannels as number[],
    layersPerBlock: r.perBlock('layers_per_block', levels, 2),
    attentionHeadDim: r.perBlock('attention_head_dim', levels, 8),
    crossAttentionDim: crossAttentionDim as number,
    encoderHidDim: encoderHidDim as number | null,
    additionEmbedType: additionEmbedType as 'text' | null,
    additionEmbedNumHeads: r.positiveInt('addition_embed_type_num_heads', 64),
    crossAttentionNorm: crossAttentionNorm as 'group_norm' | null,
    resnetTimeScaleShift: shift as 'scale_shift' | 'default',
    act: actFn === 'gelu' ? 'gelu' : 'silu',
    normNumGroups,
    normEps: r.number('norm_eps', 1e-5),
    flipSinToCos: r.bool('flip_sin_to_cos', true),
    freqShift: r.number('freq_shift', 0),
    timeEmbedDim:
      r.has('time_embedding_dim') && r.raw('time_embedding_dim') !== null ? r.positiveInt('time_embedding_dim') : (blockOutChannels[0] as number) * 4,
    midBlockScaleFactor: r.number('mid_block_scale_factor', 1),
    resnetOutScaleFactor: r.number('resnet_out_scale_factor', 1),
    resnetSkipTimeAct: r.bool('resnet_skip_time_act', false),
    convInKernel: r.positiveInt('conv_in_kernel', 3),
    convOutKernel: r.positiveInt('conv_out_kernel', 3),
  };
  checkConsistency(config, r);
  return config;
}

function checkConsistency(c: IFUNetConfig, r: ConfigReader): void {
  for (const key of ['conv_in_kernel', 'conv_out_kernel'] as const) {
    const k = key === 'conv_in_kernel' ? c.convInKernel : c.convOutKernel;
    if (k % 2 !== 1) r.fail(key, `is ${k}`, 'The port needs an odd kernel size (IF uses 3).');
  }
  const check = (ok: boolean, key: string, problem: string, fix: string) => {
    if (!ok) r.fail(key, problem, fix);
  };
  c.blockOutChannels.forEach((ch, i) => {
    check(
      ch % c.normNumGroups === 0,
      'block_out_channels',
      `entry ${i} (${ch}) is not divisible by norm_num_groups (${c.normNumGroups})`,
      'Group normalisation needs whole groups; fix the config.',
    );
    check(
      ch % c.attentionHeadDim[i] === 0,
      'attention_head_dim',
      `(${c.attentionHeadDim[i]}) does not divide block ${i}'s ${ch} channels`,
      'Each attention needs a whole number of heads; fix the config.',
    );
  });
  // The mid block uses the last entry; up block i uses entry i (diffusers' convention).
  if (c.additionEmbedType === 'text') {
    const from = c.encoderHidDim ?? c.crossAttentionDim;
    check(
      from % c.additionEmbedNumHeads === 0,
      'addition_embed_type_num_heads',
      `(${c.additionEmbedNumHeads}) does not divide the text width ${from}`,
      'The pooling attention needs a whole number of heads; fix the config.',
    );
  }
  if (c.crossAttentionNorm === 'group_norm') {
    // diffusers builds norm_cross with 32 groups whatever norm_num_groups says.
    check(
      c.crossAttentionDim % 32 === 0,
      'cross_attention_dim',
      `(${c.crossAttentionDim}) is not divisible by 32`,
      'cross_attention_norm "group_norm" uses 32 groups; fix the config.',
    );
  }
}

/** Reads and parses `unet/config.json` (or any path to such a file). */
export function readIFUNetConfig(file: string): IFUNetConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read the UNet config ${file} (${(err as Error).message}). Point to a diffusers model folder that has unet/config.json.`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}). Download it again.`, { cause: err });
  }
  return parseIFUNetConfig(json, file);
}

/** Number of 2x downsamplings (every level but the last); inputs must be divisible by 2^this. */
export function downsampleCount(c: IFUNetConfig): number {
  return c.blockOutChannels.length - 1;
}
