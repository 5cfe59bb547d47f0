// Small Part B UNets with every tensor set (BatchNorm statistics included), and inputs for them,
// for the PyTorch interop tests.
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { tf } from '../../src/lib/backend/tf';
import { NamedTensor } from '../../src/lib/io/safetensors';
import { permuteAxes } from '../../src/lib/io/torch-layout';
import type { Module } from '../../src/lib/nn/module';
import { UNet } from '../../src/lib/nn/unet';
import { ModelKind, MODEL_KINDS } from '../../src/lib/train/config';
import { createModel } from '../../src/lib/train/networks';
import { uniformValues } from '../helpers';

export const KINDS: readonly ModelKind[] = MODEL_KINDS;

/** Debian's Python, where python3-torch installs (a `python3` earlier on PATH may lack it). */
export const PYTHON = process.env.DIFFUSION_TORCH_PYTHON ?? '/usr/bin/python3';

/** Why PyTorch cannot run here (with the fix), or null when it can. */
export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return (
    `PyTorch is not importable by ${PYTHON} (${(r.error?.message ?? r.stderr.trim().split('\n').pop()) || 'no output'}); ` +
    'install it with: apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread'
  );
}

/**
 * In a `before` hook: skips the suite, saying why, when PyTorch cannot run here, except where
 * DIFFUSION_REQUIRE_TORCH=1 (CI), where a missing PyTorch is a failure.
 */
export function skipWithoutTorch(suite: Mocha.Context, what: string): void {
  const missing = torchMissing();
  if (!missing) return;
  if (process.env.DIFFUSION_REQUIRE_TORCH === '1') throw new Error(`DIFFUSION_REQUIRE_TORCH=1 but ${missing}`);
  process.stderr.write(`    skipping ${what}: ${missing}\n`);
  suite.skip();
}

/** Runs a Python script with PyTorch (`env` added to the environment); rejects with its stderr when it fails. */
export function runPython(script: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(script)} ${args[0]} exited ${code}: ${stderr}`))));
  });
}

/**
 * Sets every parameter and buffer of a model at random: weights in [-amplitude, amplitude) (default
 * 0.5), running variances in [0.5, 1.5), so a layout mix-up of any tensor changes the output.
 */
export function randomizeState<M extends Module>(model: M, seed: number, amplitude = 0.5): M {
  const values = new Map(
    model.stateEntries().map(([name, v], i) => {
      const variance = name.endsWith('.running_var');
      return [name, { shape: [...v.shape], data: uniformValues(v.size, seed * 1000 + i + 1, variance ? 0.5 : -amplitude, variance ? 1.5 : amplitude) }];
    }),
  );
  model.loadState(values, 'random values');
  return model;
}

/** A UNet of the kind with every parameter and buffer drawn at random (randomizeState). */
export function randomUNet(kind: ModelKind, hidden: number, seed: number): UNet {
  return randomizeState(createModel({ kind, hidden, seed }), seed);
}

export interface UNetInputData {
  /** NHWC [n, 28, 28, 1] for this project. */
  x: Float32Array;
  /** t / T, [n, 1]. */
  t: Float32Array;
  /** One-hot [n, 10]; the last row all zeros (unconditional). */
  c: Float32Array;
  n: number;
}

export function unetInputs(n: number, seed: number): UNetInputData {
  const x = uniformValues(n * 784, seed, 0, 1);
  const t = uniformValues(n, seed + 1, 0, 1);
  const c = new Float32Array(n * 10);
  for (let i = 0; i < n - 1; i++) c[i * 10 + ((i * 3 + seed) % 10)] = 1;
  return { x, t, c, n };
}

/** The inputs as PyTorch takes them (x NCHW), for scripts/torch_unets.py. */
export function torchInputs(kind: ModelKind, inp: UNetInputData): Record<string, NamedTensor> {
  const x = permuteAxes(inp.x, [inp.n, 28, 28, 1], [0, 3, 1, 2]);
  const out: Record<string, NamedTensor> = { x: { dtype: 'F32', shape: x.shape, data: x.data } };
  if (kind !== 'denoiser') out.t = { dtype: 'F32', shape: [inp.n, 1], data: inp.t };
  if (kind === 'class') out.c = { dtype: 'F32', shape: [inp.n, 10], data: inp.c };
  return out;
}

/** The model's eval-mode output, NHWC [n, 28, 28, 1] flattened (the same order as NCHW for one channel). */
export function forwardData(model: UNet, inp: UNetInputData): Float32Array {
  return tf.tidy(
    () =>
      model
        .forward({
          x: tf.tensor4d(inp.x, [inp.n, 28, 28, 1]),
          t: tf.tensor2d(inp.t, [inp.n, 1]),
          c: tf.tensor2d(inp.c, [inp.n, 10]),
        })
        .dataSync() as Float32Array,
  );
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
