import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/lib/backend/tf';
import { NamedTensor, readSafetensorsFile, toFloat32, writeSafetensorsFile } from '../../src/lib/io/safetensors';
import { IFUNetConfig, parseIFUNetConfig } from '../../src/lib/pretrained/deepfloyd/config';
import { expectedParameters, parameterCount } from '../../src/lib/pretrained/deepfloyd/architecture';
import { loadIFWeights } from '../../src/lib/pretrained/deepfloyd/weights';
import { IFUNet } from '../../src/lib/pretrained/deepfloyd/unet';
import { estimateIFMemory, checkFitsBackend } from '../../src/lib/pretrained/deepfloyd/memory';
import { loadDeepFloydIF } from '../../src/lib/pretrained/deepfloyd/if-model';
import { loadPromptEmbeddings } from '../../src/lib/pretrained/deepfloyd/prompt-embeddings';
import { tempDir, useDefaultBackend } from '../helpers';

/** The repository root: the nearest folder above this (compiled) file that has package.json. */
function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

const ROOT = repoRoot();
const SMALL = path.join(ROOT, 'test', 'fixtures', 'deepfloyd-if-stage1', 'if1_small_s16');
/** The larger fixture stays outside the repository, next to it in ../shared when present. */
const TINY = path.join(ROOT, '..', 'shared', 'fixtures', 'deepfloyd-if-stage1', 'if1_tiny_s16');
const TOLERANCE = 1e-4;

interface ArrayInfo {
  raw: string;
  dtype: string;
  shape: number[];
}
interface Fixture {
  dir: string;
  config: IFUNetConfig;
  json: { unet_config: unknown; arrays: Record<string, ArrayInfo> };
}

function readFixture(dir: string): Fixture {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'fixture.json'), 'utf8'));
  return { dir, json, config: parseIFUNetConfig(json.unet_config, `${dir}/fixture.json`) };
}

function readF32(fx: Fixture, name: string): { data: Float32Array; shape: number[] } {
  const info = fx.json.arrays[name];
  const buf = fs.readFileSync(path.join(fx.dir, info.raw));
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { data, shape: info.shape };
}

/** A reference array as a tensor in the port's layout (NCHW images become NHWC). */
function reference(fx: Fixture, name: string): tf.Tensor {
  const { data, shape } = readF32(fx, name);
  const t = tf.tensor(data, shape);
  return shape.length === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function timestep(fx: Fixture): number {
  const buf = fs.readFileSync(path.join(fx.dir, fx.json.arrays.input_timestep.raw));
  return Number(buf.readBigInt64LE(0));
}

/** Runs the fixture; returns the max error of each intermediate and of the output, and the forward time. */
function runFixture(fx: Fixture, weightsSource: string): { errors: Record<string, number>; ms: number } {
  const { weights } = loadIFWeights(weightsSource, fx.config);
  const unet = new IFUNet(fx.config, weights);
  const sample = reference(fx, 'input_sample') as tf.Tensor4D;
  const text = reference(fx, 'input_encoder_hidden_states') as tf.Tensor3D;
  const t = timestep(fx);
  const record = new Map<string, tf.Tensor>();
  unet.forward(sample, [t], text, record).dispose(); // warm-up (kernel setup)
  for (const r of record.values()) r.dispose();
  record.clear();
  const start = process.hrtime.bigint();
  const out = unet.forward(sample, [t], text, record);
  out.dataSync();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const errors: Record<string, number> = {};
  for (const name of Object.keys(fx.json.arrays).filter((n) => n.startsWith('intermediate.'))) {
    const block = name.slice('intermediate.'.length);
    const mine = record.get(block);
    assert.ok(mine !== undefined, `the port records no intermediate "${block}"`);
    const ref = reference(fx, name);
    errors[block] = maxAbsDiff(mine, ref);
    ref.dispose();
  }
  const ref = reference(fx, 'output_sample');
  errors.output = maxAbsDiff(out, ref);
  tf.dispose([ref, out, sample, text, ...record.values()]);
  weights.dispose();
  return { errors, ms };
}

function assertParity(label: string, errors: Record<string, number>): void {
  for (const [block, err] of Object.entries(errors)) {
    assert.ok(err <= TOLERANCE, `${label}: ${block} differs from the reference by ${err} (> ${TOLERANCE})`);
  }
}

describe('DeepFloyd IF stage-I UNet', function () {
  this.timeout(60_000);
  before(useDefaultBackend);

  it('matches the reference on the small fixture (every block and the output within 1e-4)', () => {
    const fx = readFixture(SMALL);
    const { errors, ms } = runFixture(fx, path.join(SMALL, 'weights.safetensors'));
    if (process.env.IF_PARITY_REPORT) console.log('if1_small_s16', tf.getBackend(), `${ms.toFixed(1)} ms`, errors);
    assert.equal(Object.keys(errors).length, 16); // 15 intermediates and the output
    assertParity('if1_small_s16', errors);
  });

  it('matches the reference on the tiny fixture (layers_per_block 3, as IF-I-XL) when ../shared has it', function () {
    if (!fs.existsSync(path.join(TINY, 'fixture.json'))) this.skip();
    const fx = readFixture(TINY);
    const { errors, ms } = runFixture(fx, path.join(TINY, 'weights.safetensors'));
    if (process.env.IF_PARITY_REPORT) console.log('if1_tiny_s16', tf.getBackend(), `${ms.toFixed(1)} ms`, errors);
    assertParity('if1_tiny_s16', errors);
  });
});

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

/** float32 -> float16 bit pattern, round to nearest even. */
function f32ToF16Bits(x: number): number {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit, round half to even.
    if (exp < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - exp;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  if (exp >= 31) return sign | 0x7c00;
  let h = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 -> bfloat16 bit pattern, round to nearest even. */
function f32ToBf16Bits(x: number): number {
  const u = f32Bits(x);
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

function convertAll(tensors: Record<string, NamedTensor>, dtype: 'F16' | 'BF16'): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  const conv = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  for (const [name, t] of Object.entries(tensors)) {
    const src = t.data as Float32Array;
    const bits = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) bits[i] = conv(src[i]);
    out[name] = { dtype, shape: t.shape, data: bits };
  }
  return out;
}

/** The real IF-I-XL unet config (from the fixtures' README). */
function xlConfigJson(): Record<string, unknown> {
  return {
    _class_name: 'UNet2DConditionModel',
    sample_size: 64,
    in_channels: 3,
    out_channels: 6,
    down_block_types: ['ResnetDownsampleBlock2D', 'SimpleCrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D'],
    mid_block_type: 'UNetMidBlock2DSimpleCrossAttn',
    up_block_types: ['SimpleCrossAttnUpBlock2D', 'SimpleCrossAttnUpBlock2D', 'SimpleCrossAttnUpBlock2D', 'ResnetUpsampleBlock2D'],
    block_out_channels: [704, 1408, 2112, 2816],
    layers_per_block: 3,
    attention_head_dim: 64,
    cross_attention_dim: 2816,
    encoder_hid_dim: 4096,
    encoder_hid_dim_type: 'text_proj',
    addition_embed_type: 'text',
    addition_embed_type_num_heads: 64,
    cross_attention_norm: 'group_norm',
    resnet_time_scale_shift: 'scale_shift',
    act_fn: 'gelu',
    norm_num_groups: 32,
    norm_eps: 1e-5,
    flip_sin_to_cos: true,
    freq_shift: 0,
    class_embed_type: null,
    only_cross_attention: false,
  };
}

describe('DeepFloyd IF weights, prompts and model interface', function () {
  this.timeout(60_000);
  let fx: Fixture;
  let stored: Record<string, NamedTensor>;
  let referenceOut: tf.Tensor;
  let dir: string;
  before(async () => {
    await useDefaultBackend();
    fx = readFixture(SMALL);
    stored = readSafetensorsFile(path.join(SMALL, 'weights.safetensors')).tensors;
    referenceOut = reference(fx, 'output_sample');
    dir = tempDir('deepfloyd');
  });
  after(() => {
    referenceOut.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a diffusers-style model folder (unet/config.json + the given weight files). */
  function modelFolder(name: string, files: Record<string, Record<string, NamedTensor>>, index?: Record<string, string>): string {
    const unet = path.join(dir, name, 'unet');
    fs.mkdirSync(unet, { recursive: true });
    fs.writeFileSync(path.join(unet, 'config.json'), JSON.stringify(fx.json.unet_config));
    for (const [file, tensors] of Object.entries(files)) writeSafetensorsFile(path.join(unet, file), tensors);
    if (index !== undefined) {
      fs.writeFileSync(path.join(unet, 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: index }));
    }
    return path.join(dir, name);
  }

  /** Output of the fixture's call through the model interface, [1, 16, 16, 6]. */
  function predictAll(folder: string): tf.Tensor {
    const model = loadDeepFloydIF(folder);
    const sample = reference(fx, 'input_sample') as tf.Tensor4D;
    const text = reference(fx, 'input_encoder_hidden_states') as tf.Tensor3D;
    const { eps, varValue } = model.predict(sample, timestep(fx), text);
    const out = tf.concat([eps, varValue!], 3);
    tf.dispose([eps, varValue!, sample, text]);
    model.dispose();
    return out;
  }

  it('loads a sharded checkpoint through its index and gives the reference output', () => {
    const names = Object.keys(stored);
    const shards: Record<string, Record<string, NamedTensor>> = {
      'diffusion_pytorch_model-00001-of-00002.safetensors': {},
      'diffusion_pytorch_model-00002-of-00002.safetensors': {},
    };
    const index: Record<string, string> = {};
    names.forEach((n, i) => {
      const shard = Object.keys(shards)[i % 2];
      shards[shard][n] = stored[n];
      index[n] = shard;
    });
    const out = predictAll(modelFolder('sharded', shards, index));
    assert.ok(maxAbsDiff(out, referenceOut) <= TOLERANCE);
    out.dispose();
  });

  it('loads float16 and bfloat16 weights (converted to float32 exactly)', () => {
    for (const [dtype, tolerance] of [
      ['F16', 5e-3],
      ['BF16', 5e-2],
    ] as const) {
      const converted = convertAll(stored, dtype);
      const folder = modelFolder(dtype, { 'diffusion_pytorch_model.safetensors': converted });
      // One conv weight element, checked through the OIHW -> HWIO move: [o=5, i=7, y=2, x=1].
      const { weights } = loadIFWeights(path.join(folder, 'unet'), fx.config);
      const w = weights.get('down_blocks.0.resnets.0.conv1.weight');
      assert.deepEqual(w.shape, [3, 3, 32, 32]);
      const bits = (converted['down_blocks.0.resnets.0.conv1.weight'].data as Uint16Array)[((5 * 32 + 7) * 3 + 2) * 3 + 1];
      const expected = dtype === 'BF16' ? new Float32Array(new Uint32Array([bits << 16]).buffer)[0] : decodeHalf(bits);
      assert.equal(w.bufferSync().get(2, 1, 7, 5), expected);
      weights.dispose();
      const out = predictAll(folder);
      const err = maxAbsDiff(out, referenceOut);
      assert.ok(err < tolerance, `${dtype} weights: output differs by ${err}`);
      out.dispose();
    }
  });

  it('names a missing tensor', () => {
    const partial = { ...stored };
    delete partial['mid_block.attentions.0.add_k_proj.weight'];
    const folder = modelFolder('missing', { 'diffusion_pytorch_model.safetensors': partial });
    assert.throws(() => loadDeepFloydIF(folder), /missing tensor "mid_block\.attentions\.0\.add_k_proj\.weight" \[64, 64\].*config\.json/);
  });

  it('names a mis-shaped tensor with both shapes', () => {
    const wrong = { ...stored, 'mid_block.resnets.0.conv1.weight': { dtype: 'F32' as const, shape: [64, 32, 3, 3], data: new Float32Array(64 * 32 * 9) } };
    const folder = modelFolder('wrong-shape', { 'diffusion_pytorch_model.safetensors': wrong });
    assert.throws(
      () => loadDeepFloydIF(folder),
      /tensor "mid_block\.resnets\.0\.conv1\.weight" has shape \[64, 32, 3, 3\] but the config needs \[64, 64, 3, 3\]/,
    );
  });

  it('refuses tensors the config does not use, a missing shard and missing weights', () => {
    const extra = { ...stored, 'class_embedding.weight': { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) } };
    assert.throws(
      () => loadDeepFloydIF(modelFolder('extra', { 'diffusion_pytorch_model.safetensors': extra })),
      /does not use, e\.g\. "class_embedding\.weight"/,
    );
    const index = Object.fromEntries(Object.keys(stored).map((n) => [n, 'diffusion_pytorch_model-00001-of-00001.safetensors']));
    assert.throws(() => loadDeepFloydIF(modelFolder('no-shard', {}, index)), /shard diffusion_pytorch_model-00001-of-00001\.safetensors .* is missing/);
    assert.throws(() => loadDeepFloydIF(modelFolder('empty', {})), /has none of diffusion_pytorch_model\.safetensors/);
  });

  it('refuses unsupported configs, naming the option', () => {
    const base = fx.json.unet_config as Record<string, unknown>;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ mid_block_type: 'UNetMidBlock2DCrossAttn' }, /"mid_block_type" is "UNetMidBlock2DCrossAttn", which the DeepFloyd IF port does not support/],
      [
        { down_block_types: ['CrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D'] },
        /"down_block_types".*supports ResnetDownsampleBlock2D and SimpleCrossAttnDownBlock2D/,
      ],
      [{ act_fn: 'mish' }, /"act_fn" is "mish"/],
      [{ class_embed_type: 'timestep' }, /"class_embed_type" is "timestep".*only null/],
      [{ only_cross_attention: true }, /"only_cross_attention" is true/],
      [{ addition_embed_type: 'text_time' }, /"addition_embed_type" is "text_time"/],
      [{ attention_head_dim: 24 }, /"attention_head_dim" \(24\) does not divide block 0's 32 channels/],
    ];
    for (const [change, pattern] of cases) {
      assert.throws(() => parseIFUNetConfig({ ...base, ...change }, 'unet/config.json'), pattern, JSON.stringify(change));
    }
  });

  it('counts IF-I-XL at 4.30B parameters and refuses it on wasm before reading weights; the fixture fits', () => {
    const xl = parseIFUNetConfig(xlConfigJson());
    const params = parameterCount(expectedParameters(xl));
    assert.ok(Math.abs(params / 1e9 - 4.3) < 0.005, `IF-I-XL has ${params} parameters`);
    const estimate = estimateIFMemory(xl, { batch: 2, imageSize: 64, tokens: 77 });
    assert.ok(estimate.weightBytes > 17e9);
    assert.throws(() => checkFitsBackend(estimate, 'wasm'), /needs 1[67]\.\d+ GiB .* wasm backend cannot hold it .*tfjs-node-gpu/);
    checkFitsBackend(estimate, 'tensorflow'); // no limit known: allowed
    assert.equal(parameterCount(expectedParameters(fx.config)), 1674118);
    assert.throws(() => loadIFWeights(path.join(SMALL, 'weights.safetensors'), fx.config, { memoryLimitBytes: 1e6 }), /more than the 976\.6 KiB/);
  });

  it('loads prompt embeddings (one tensor per prompt, "" unconditional) and predicts through the model interface', () => {
    const text = readF32(fx, 'input_encoder_hidden_states'); // [1, 8, 32]
    const file = path.join(dir, 'prompts.safetensors');
    const half = convertAll({ x: { dtype: 'F32', shape: [8, 32], data: text.data } }, 'F16').x;
    writeSafetensorsFile(file, {
      'a photo of a cat': { dtype: 'F32', shape: [1, 8, 32], data: text.data },
      '': { dtype: 'F32', shape: [8, 32], data: new Float32Array(256) },
      'a half-precision prompt': half,
    });
    const { dictionary, tokens, width } = loadPromptEmbeddings(file);
    assert.deepEqual([tokens, width, dictionary.dim], [8, 32, 256]);
    assert.deepEqual(dictionary.prompts().sort(), ['', 'a half-precision prompt', 'a photo of a cat']);

    const folder = modelFolder('interface', { 'diffusion_pytorch_model.safetensors': stored });
    const model = loadDeepFloydIF(folder);
    assert.deepEqual([model.imageSize, model.channels, model.learnedVariance, model.schedule.T], [16, 3, true, 1000]);
    const one = reference(fx, 'input_sample') as tf.Tensor4D;
    const batch = tf.concat([one, one], 0);
    const prompt = dictionary.embed('a photo of a cat'); // [1, 256], broadcast to the batch of 2
    const { eps, varValue } = model.predict(batch, timestep(fx), prompt);
    assert.deepEqual(eps.shape, [2, 16, 16, 3]);
    const full = tf.concat([eps, varValue!], 3);
    for (const i of [0, 1]) {
      const row = tf.slice(full, [i, 0, 0, 0], [1, -1, -1, -1]);
      assert.ok(maxAbsDiff(row, referenceOut) <= TOLERANCE);
      row.dispose();
    }
    assert.throws(() => model.predict(one, 1000, prompt), /timestep 1000 is outside 0\.\.999/);
    assert.throws(() => model.predict(one, 5, tf.zeros([1, 100]) as tf.Tensor2D), /multiple of 32/);
    tf.dispose([one, batch, prompt, eps, varValue!, full]);
    model.dispose();
  });
});

function decodeHalf(bits: number): number {
  const t = { dtype: 'F16' as const, shape: [1], data: new Uint16Array([bits]) };
  return toFloat32(t)[0];
}
