// Part A's cascade stages in PyTorch (scripts/torch_cascade.py): weights exported from here give
// this project's outputs there, and a state dict from there imports with the same outputs. Needs
// Debian's python3-torch (.ci/run installs it); without it the tests skip, saying why, except where
// DIFFUSION_REQUIRE_TORCH=1 (CI), where a missing PyTorch is a failure.
import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runImportTorchCascade } from '../../src/cli/torch';
import { tf } from '../../src/lib/backend/tf';
import type { ImageDataset } from '../../src/lib/data/dataset';
import { CascadeUNet } from '../../src/lib/nn/cascade-unet';
import { TextToImageNet } from '../../src/lib/nn/text-to-image';
import { NamedTensor, readSafetensorsFile, toFloat32, writeSafetensorsFile } from '../../src/lib/io/safetensors';
import { permuteAxes } from '../../src/lib/io/torch-layout';
import { sha256 } from '../../src/lib/io/checksums';
import { EMOJI_STAGE1_FILE, EMOJI_STAGE2_FILE, loadEmojiStage1 } from '../../src/lib/pretrained/emoji-model';
import { stage1Config, stage1Vocabulary, stage2Config } from '../../src/lib/pretrained/emoji-spec';
import { Vocabulary } from '../../src/lib/text/tokenizer';
import { TrainConfig } from '../../src/lib/train/config';
import { vocabularyOf } from '../../src/lib/train/cascade-objectives';
import { readNetworkFile } from '../../src/lib/train/network-file';
import { createNetwork } from '../../src/lib/train/networks';
import { exportTorchCascade, importTorchCascade, stage1DataFile } from '../../src/lib/train/torch-cascade';
import { tempDir, uniformValues, useDefaultBackend } from '../helpers';
import { maxAbsDiff, randomizeState, runPython, skipWithoutTorch } from './torch-fixtures';

const SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'torch_cascade.py');
/** float32 sums in another order, as for Part B's UNets (test/train/torch-pytorch.test.ts). */
const TOLERANCE = 1e-5;
const SIZE = 16;
/**
 * Random weights in [-0.3, 0.3) keep the deep stages' outputs below 1 (measured: 0.48 and 0.58, TF.js vs
 * PyTorch 3e-7), where a mistake still shows: PyTorch ignoring the padding mask differs by 6e-3.
 */
const AMPLITUDE = 0.3;
const N = 3;

/** Stage I and II at test size, with attention over pixels and words at level 1 and in the middle. */
function smallConfigs(vocabulary = new Vocabulary(['a', 'hat', 'rocket', 'ship'], 6)): { stage1: TrainConfig; stage2: TrainConfig } {
  const s1 = stage1Config(vocabulary);
  const unet = { ...s1.cascade!.unet, widths: [8, 16], attentionLevels: [1], headDim: 8, pooledDim: 12, contextDim: 16, timeFeatures: 8 };
  const stage1 = { ...s1, cascade: { ...s1.cascade!, imageSize: SIZE, unet, text: { ...s1.cascade!.text!, dim: 16, heads: 2, pooledDim: 12 } } };
  const s2 = stage2Config();
  const stage2 = {
    ...s2,
    cascade: { ...s2.cascade!, unet: { ...s2.cascade!.unet, widths: [8, 16], attentionLevels: [1], midAttention: true, headDim: 8, timeFeatures: 8 } },
  };
  return { stage1, stage2 };
}

interface StageInputs {
  size: number;
  x: Float32Array; // NHWC
  t: Int32Array;
  ids?: Int32Array; // [N, maxTokens]
  lowRes?: Float32Array;
  aug?: Int32Array;
}

function inputsFor(config: TrainConfig, seed: number, size = SIZE, ids?: Int32Array): StageInputs {
  const px = N * size * size * 3;
  const inputs: StageInputs = { size, x: uniformValues(px, seed, -1, 1), t: Int32Array.from([999, 500, 3]) };
  if (config.kind === 'text') {
    // "a rocket ship", "hat", and the empty prompt (start token only): padding masked in every row.
    inputs.ids = ids ?? Int32Array.from([1, 2, 4, 5, 0, 0, 1, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  } else {
    inputs.lowRes = uniformValues(px, seed + 1, -1, 1);
    inputs.aug = Int32Array.from([0, 250, 400]);
  }
  return inputs;
}

function forwardHere(net: TextToImageNet | CascadeUNet, inputs: StageInputs): Float32Array {
  const shape: [number, number, number, number] = [N, inputs.size, inputs.size, 3];
  return tf.tidy(() => {
    const x = tf.tensor4d(inputs.x, shape);
    const y =
      net instanceof TextToImageNet
        ? net.forward({ x, t: inputs.t, ids: inputs.ids! })
        : net.forward({ x, t: inputs.t, lowRes: tf.tensor4d(inputs.lowRes!, shape), augLevel: inputs.aug! });
    return y.dataSync() as Float32Array;
  });
}

/** NHWC -> NCHW, as PyTorch takes images. */
function nchw(data: Float32Array, size: number): NamedTensor {
  const { shape, data: out } = permuteAxes(data, [N, size, size, 3], [0, 3, 1, 2]);
  return { dtype: 'F32', shape, data: out };
}

function torchInputs(inputs: StageInputs): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = { x: nchw(inputs.x, inputs.size), t: { dtype: 'I32', shape: [N], data: inputs.t } };
  if (inputs.ids) out.ids = { dtype: 'I32', shape: [N, inputs.ids.length / N], data: inputs.ids };
  if (inputs.lowRes) out.low_res = nchw(inputs.lowRes, inputs.size);
  if (inputs.aug) out.aug = { dtype: 'I32', shape: [N], data: inputs.aug };
  return out;
}

/** PyTorch's NCHW output as NHWC values, to compare with the outputs here. */
function torchOutput(file: string, size: number): Float32Array {
  const y = readSafetensorsFile(file).tensors.y;
  assert.ok(y, `${file} has no tensor "y"`);
  return permuteAxes(toFloat32(y), [N, 3, size, size], [0, 2, 3, 1]).data;
}

type Stage = { name: string; net: TextToImageNet | CascadeUNet; config: TrainConfig; inputs: StageInputs };

/** Each stage's outputs here and in PyTorch (from its exported weights), max |difference| each, printed. */
async function compareWithPyTorch(dir: string, stages: Stage[]): Promise<number[]> {
  const expected: Float32Array[] = [];
  const files: string[] = [];
  for (const { name, net, config, inputs } of stages) {
    expected.push(forwardHere(net, inputs));
    const file = exportTorchCascade(net, config);
    writeSafetensorsFile(path.join(dir, `${name}.safetensors`), file.tensors, file.metadata);
    writeSafetensorsFile(path.join(dir, `${name}-inputs.safetensors`), torchInputs(inputs));
    files.push(...['', '-inputs', '-out'].map((s) => path.join(dir, `${name}${s}.safetensors`)));
  }
  await runPython(SCRIPT, ['forward', ...files]);
  return stages.map(({ name, inputs }, i) => {
    const diff = maxAbsDiff(torchOutput(path.join(dir, `${name}-out.safetensors`), inputs.size), expected[i]);
    const scale = maxAbsDiff(expected[i], new Float32Array(expected[i].length));
    process.stderr.write(`      ${name}: TF.js vs PyTorch max |diff| ${diff.toExponential(2)} (outputs up to ${scale.toFixed(2)})\n`);
    return diff;
  });
}

describe('PyTorch interop of the cascade stages (scripts/torch_cascade.py)', function () {
  this.timeout(120_000);
  let dir: string;

  before(async function () {
    skipWithoutTorch(this, "the cascade's PyTorch tests");
    await useDefaultBackend();
    dir = tempDir('torch-cascade');
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`stage I (text encoder + UNet) and stage II give the same outputs in PyTorch (max |diff| <= ${TOLERANCE})`, async () => {
    const { stage1, stage2 } = smallConfigs();
    const stages = [stage1, stage2].map((config, i) => ({
      name: `stage${i + 1}`,
      net: randomizeState(createNetwork(config) as TextToImageNet | CascadeUNet, 40 + i, AMPLITUDE),
      config,
      inputs: inputsFor(config, 50 + i),
    }));
    try {
      const diffs = await compareWithPyTorch(dir, stages);
      stages.forEach(({ name }, i) => assert.ok(diffs[i] <= TOLERANCE, `${name}: max |diff| ${diffs[i]}`));
    } finally {
      for (const s of stages) s.net.dispose();
    }
  });

  it(`the shipped colour model's two stages give the same outputs in PyTorch (max |diff| <= ${TOLERANCE})`, async () => {
    const weights = path.join(__dirname, '..', '..', '..', 'src', 'lib', 'pretrained', 'weights');
    const read = (file: string, kind: 'text' | 'upsample') => readNetworkFile(fs.readFileSync(path.join(weights, file)), file, kind);
    const s1 = read(EMOJI_STAGE1_FILE, 'text');
    const s2 = read(EMOJI_STAGE2_FILE, 'upsample');
    const vocabulary = vocabularyOf(s1.config.cascade!);
    const ids = new Int32Array(N * vocabulary.maxTokens);
    ['a rocket ship', 'an oil painting of an old man', ''].forEach((p, i) => ids.set(vocabulary.encode(p), i * vocabulary.maxTokens));
    const stages = [
      { name: 'shipped-stage1', net: s1.net as TextToImageNet, config: s1.config, inputs: inputsFor(s1.config, 70, 32, ids) },
      { name: 'shipped-stage2', net: s2.net as CascadeUNet, config: s2.config, inputs: inputsFor(s2.config, 71, 32) },
    ];
    try {
      const diffs = await compareWithPyTorch(dir, stages);
      stages.forEach(({ name }, i) => assert.ok(diffs[i] <= TOLERANCE, `${name}: max |diff| ${diffs[i]}`));
    } finally {
      for (const s of stages) s.net.dispose();
    }
  });

  it('an exported stage imports back with the same tensors and outputs; a file without its config is refused', () => {
    const { stage1 } = smallConfigs();
    const net = randomizeState(createNetwork(stage1) as TextToImageNet, 60, AMPLITUDE);
    const inputs = inputsFor(stage1, 61);
    const before = forwardHere(net, inputs);
    const file = exportTorchCascade(net, stage1);
    net.dispose();
    const { net: back, config } = importTorchCascade(file, 'exported');
    assert.equal(config.kind, 'text');
    assert.deepEqual(forwardHere(back, inputs), before);
    back.dispose();
    const { config: _dropped, ...noConfig } = file.metadata;
    assert.throws(() => importTorchCascade({ ...file, metadata: noConfig }, 'bare.safetensors'), /bare\.safetensors has no "config" in its metadata/);
    assert.throws(() => importTorchCascade({ ...file, metadata: { ...file.metadata, layout: 'tfjs' } }, 'tf.safetensors'), /not in PyTorch layout/);
  });
});

describe('training stage I in PyTorch (scripts/train_emoji_torch.py)', function () {
  this.timeout(180_000);
  const TRAINER = path.join(__dirname, '..', '..', '..', 'scripts', 'train_emoji_torch.py');
  let dir: string;
  let dataFile: string;
  let config: TrainConfig;

  /** Twelve random 16 px images of three subjects in two styles, with the vocabulary of their captions. */
  function tinySet(): { set: ImageDataset; vocabulary: Vocabulary } {
    const subjects = [
      { names: ['rocket'], keywords: ['ship', 'launch'] },
      { names: ['old man'], keywords: [] },
      { names: ['hat', 'top hat'], keywords: ['gentleman'] },
    ];
    const styleWords = ['noto', 'twemoji'];
    const count = 12;
    const set: ImageDataset = {
      images: uniformValues(count * SIZE * SIZE * 3, 90, 0, 1),
      labels: Uint16Array.from({ length: count }, (_, i) => i % 3),
      count,
      height: SIZE,
      width: SIZE,
      channels: 3,
      classes: subjects.map((s) => s.names[0]),
      captions: { subjects, styleWords, style: Uint8Array.from({ length: count }, (_, i) => i % 2) },
    };
    return { set, vocabulary: stage1Vocabulary(subjects, styleWords) };
  }

  function train(out: string, args: string[], env: Record<string, string> = {}): Promise<void> {
    return runPython(TRAINER, ['--data', dataFile, '--out', out, '--batch', '4', '--threads', '1', ...args], env);
  }

  function weightsOf(run: string): Record<string, NamedTensor> {
    return readSafetensorsFile(path.join(run, 'emoji-stage1-torch.safetensors')).tensors;
  }

  before(async function () {
    skipWithoutTorch(this, 'the PyTorch training tests');
    await useDefaultBackend();
    dir = tempDir('torch-emoji-train');
    const { set, vocabulary } = tinySet();
    config = smallConfigs(vocabulary).stage1;
    dataFile = path.join(dir, 'data.safetensors');
    const { tensors, metadata } = stage1DataFile(set, config);
    writeSafetensorsFile(dataFile, tensors, metadata);
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a run stopped after 2 steps and resumed to 4 ends with the weights and losses of an uninterrupted one', async () => {
    const whole = path.join(dir, 'whole');
    const resumed = path.join(dir, 'resumed');
    await train(whole, ['--steps', '4', '--save-every', '2']);
    await train(resumed, ['--steps', '2']);
    await train(resumed, ['--steps', '4']);
    const a = weightsOf(whole);
    const b = weightsOf(resumed);
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    for (const name of Object.keys(a)) assert.deepEqual(b[name].data, a[name].data, name);
    const losses = (run: string) =>
      fs
        .readFileSync(path.join(run, 'loss.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { step: number; loss: number }).loss);
    assert.equal(losses(whole).length, 4);
    assert.deepEqual(losses(resumed), losses(whole));
  });

  it('--ship puts the weights into a weights folder: the file, its SHA256SUMS line, the loss summary and its emoji.json record', async () => {
    const run = path.join(dir, 'to-ship');
    await train(run, ['--steps', '3']);
    const weights = path.join(dir, 'weights');
    fs.mkdirSync(weights);
    fs.writeFileSync(path.join(weights, 'emoji.json'), JSON.stringify({ command: 'diffusion pretrain emoji --export', stage2: { file: EMOJI_STAGE2_FILE } }));
    await runImportTorchCascade({ file: path.join(run, 'emoji-stage1-torch.safetensors'), shipTo: weights });
    const shipped = path.join(weights, EMOJI_STAGE1_FILE);
    const sums = fs.readFileSync(path.join(weights, 'SHA256SUMS'), 'utf8');
    assert.equal(sums, `${sha256(fs.readFileSync(shipped))}  ${EMOJI_STAGE1_FILE}\n`);
    const { stage1 } = loadEmojiStage1(shipped); // checks the file against SHA256SUMS
    stage1.dispose();
    const record = JSON.parse(fs.readFileSync(path.join(weights, 'emoji.json'), 'utf8')) as {
      command: string;
      stage1: { parameterCount: number; trainedWith: { steps: number; world: number }; config: { cascade: { vocabulary?: string[] } } };
      stage2: { file: string };
    };
    assert.equal(record.command, 'diffusion pretrain emoji --export', 'the rest of the record is kept');
    assert.equal(record.stage2.file, EMOJI_STAGE2_FILE);
    assert.equal(record.stage1.trainedWith.steps, 3);
    assert.equal(record.stage1.config.cascade.vocabulary, undefined, 'the vocabulary stays in the weights file');
    const summary = fs.readFileSync(path.join(weights, 'emoji-stage1-loss.jsonl'), 'utf8').trim().split('\n');
    assert.equal((JSON.parse(summary[summary.length - 1]) as { step: number }).step, 3);
  });

  it("its weights import here and give PyTorch's outputs; two processes (DistributedDataParallel, gloo) train too", async () => {
    const ddp = path.join(dir, 'ddp');
    const env = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(29_500 + (process.pid % 400)), WORLD_SIZE: '2' };
    await Promise.all([0, 1].map((r) => train(ddp, ['--steps', '2'], { ...env, RANK: String(r), LOCAL_RANK: String(r) })));
    const file = path.join(ddp, 'emoji-stage1-torch.safetensors');
    const read = readSafetensorsFile(file);
    assert.equal((JSON.parse(read.metadata.trainedWith) as { world: number; steps: number }).world, 2);
    const { net, config: imported } = importTorchCascade(read, file);
    try {
      assert.equal(imported.kind, 'text');
      assert.equal(imported.batchSize, 8, 'the batch over both processes');
      const vocabulary = vocabularyOf(imported.cascade!);
      const ids = new Int32Array(N * vocabulary.maxTokens);
      ['a rocket ship', 'an old man in a top hat', ''].forEach((p, i) => ids.set(vocabulary.encode(p), i * vocabulary.maxTokens));
      const inputs = inputsFor(imported, 95, SIZE, ids);
      writeSafetensorsFile(path.join(dir, 'ddp-inputs.safetensors'), torchInputs(inputs));
      await runPython(SCRIPT, ['forward', file, path.join(dir, 'ddp-inputs.safetensors'), path.join(dir, 'ddp-out.safetensors')]);
      const diff = maxAbsDiff(torchOutput(path.join(dir, 'ddp-out.safetensors'), SIZE), forwardHere(net as TextToImageNet, inputs));
      assert.ok(diff <= TOLERANCE, `max |diff| ${diff}`);
    } finally {
      net.dispose();
    }
  });
});
