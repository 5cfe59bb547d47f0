// Data-parallel training on one machine: worker threads compute the gradients of a batch's
// micro-batches at the same time, each on its own single-threaded backend, and the trainer sums
// them in micro-batch order and applies Adam once. Because each micro-batch's gradient is
// computed exactly as in-process and summed in the same order, a run gives the same numbers with
// any number of workers (tested): workers change the speed, never the result.
//
// Why: on wasm only the convolutions run on several threads, so two threads gain ~1.2x; two
// workers on two cores run everything (GELU, BatchNorm, element-wise kernels) side by side.
import * as os from 'os';
import { Worker } from 'worker_threads';
import { BackendInfo } from '../backend/select';
import { noteOnce, workerScript, workerScriptProblem } from '../worker-script';
import { TrainConfig } from './config';
import { BatchDraw } from './objectives';
import type { WorkerInit, WorkerPartResult, WorkerReady, WorkerStepRequest, WorkerStepResult, WorkerFailure } from './gradient-worker';
import { RUNTIME_OPTION_VARIABLES, runtimeOptions, runtimeOptionsEnv } from '../runtime-options';

/** Environment variable: number of gradient workers (0 or 1 = train in the main thread). */
export const TRAIN_WORKERS_ENV_VAR = RUNTIME_OPTION_VARIABLES.trainWorkers;

/**
 * How many gradient workers to use. An explicit count (option, else DIFFUSION_TRAIN_WORKERS)
 * wins; by default wasm and cpu use one worker per core, as many as a batch has micro-batches,
 * when the compiled worker script is there and current (else training stays in the main thread,
 * with a note). Native TensorFlow already uses every core per kernel, so it trains in-process.
 * 0 means none.
 */
export function trainWorkerCount(microBatches: number, backend: BackendInfo['name'], requested?: number): number {
  let n = requested ?? runtimeOptions().trainWorkers;
  const automatic = n === null;
  if (n === null) n = backend === 'tensorflow' ? 0 : os.availableParallelism();
  if (!Number.isInteger(n) || n < 0) throw new Error(`workers must be a whole number >= 0, got ${n}`);
  const count = Math.min(n, microBatches);
  if (count < 2) return 0;
  if (automatic) {
    const problem = workerScriptProblem(WORKER_FILE);
    if (problem) {
      noteOnce(`[diffusion] training in the main thread, without gradient workers: ${problem}`);
      return 0;
    }
  }
  return count;
}

const WORKER_FILE = 'train/gradient-worker.js';

/** The compiled gradient worker script (see worker-script.ts), or null where there is none. */
export function gradientWorkerScript(): string | null {
  return workerScript(WORKER_FILE);
}

export interface MicroBatchGradient extends WorkerPartResult {
  /** Index of the micro-batch in the batch. */
  index: number;
}

interface Pending {
  resolve: (r: WorkerStepResult) => void;
  reject: (e: Error) => void;
}

/** A pool of gradient workers for one model configuration. */
export class GradientWorkers {
  private readonly pending = new Map<Worker, Pending>();
  private failure: Error | null = null;
  /** Tensors alive in each worker after its last step (for leak checks). */
  readonly tensorCounts: number[];

  private constructor(private readonly workers: Worker[]) {
    this.tensorCounts = workers.map(() => 0);
    for (const w of workers) {
      const fail = (e: Error) => {
        this.failure ??= e;
        this.pending.get(w)?.reject(e);
        this.pending.delete(w);
      };
      w.on('message', (msg: WorkerStepResult | WorkerFailure) => {
        const p = this.pending.get(w);
        this.pending.delete(w);
        if (!p) return;
        if (msg.type === 'error') p.reject(new Error(`gradient worker: ${msg.message}`));
        else p.resolve(msg);
      });
      w.on('error', (e) => fail(new Error(`gradient worker failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (this.pending.has(w)) fail(new Error(`gradient worker exited (code ${code}) during a step`));
      });
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Starts `count` workers, each building the model of `config` on `backend` with one thread,
   * and checks that they built the same parameters as `expected` (name and shape, in order).
   */
  /**
   * The workers a training run of `config` uses (trainWorkerCount: one per core on wasm when a
   * batch has two micro-batches or more, `requested` if given), started; null for none.
   */
  static async forTraining(
    config: TrainConfig,
    microBatch: number,
    backend: BackendInfo['name'],
    parameters: Array<[string, { shape: readonly number[] }]>,
    requested?: number,
  ): Promise<GradientWorkers | null> {
    const count = trainWorkerCount(Math.ceil(config.batchSize / microBatch), backend, requested);
    if (count === 0) return null;
    return GradientWorkers.start(
      config,
      count,
      backend,
      parameters.map(([name, v]) => [name, v.shape]),
    );
  }

  static async start(config: TrainConfig, count: number, backend: BackendInfo['name'], expected: Array<[string, readonly number[]]>): Promise<GradientWorkers> {
    const script = gradientWorkerScript();
    if (!script) {
      throw new Error(
        'The gradient worker script (dist/src/lib/train/gradient-worker.js) is missing: run `npm run build`, ' +
          `or set ${TRAIN_WORKERS_ENV_VAR}=0 to train in the main thread.`,
      );
    }
    const init: WorkerInit = { config, backend };
    // The workers run with this process's runtime options, each on one wasm thread.
    const env = { ...process.env, ...runtimeOptionsEnv(), [RUNTIME_OPTION_VARIABLES.wasmThreads]: '1' };
    const workers = Array.from({ length: count }, () => new Worker(script, { workerData: init, env }));
    const ready = (w: Worker) =>
      new Promise<WorkerReady>((resolve, reject) => {
        w.once('message', (m: WorkerReady | WorkerFailure) => (m.type === 'ready' ? resolve(m) : reject(new Error(m.message))));
        w.once('error', reject);
      });
    try {
      const answers = await Promise.all(workers.map(ready));
      const want = JSON.stringify(expected.map(([n, s]) => [n, [...s]]));
      for (const a of answers) {
        if (JSON.stringify(a.parameters) !== want) {
          throw new Error(`its model has other parameters than the trainer's (is ${script} built from this source? run \`npm run build\`)`);
        }
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw new Error(`Could not start gradient workers: ${(e as Error).message}`, { cause: e });
    }
    return new GradientWorkers(workers);
  }

  /**
   * Gradients of every part of a batch under the current parameters, in part order. Part i goes
   * to worker i mod size; `weights[i]` scales part i's loss (its share of the batch).
   */
  async gradients(params: Float32Array, parts: BatchDraw[], weights: number[]): Promise<MicroBatchGradient[]> {
    if (this.failure) throw this.failure;
    const jobs = this.workers.map((w, k) => {
      const mine = parts.map((_, i) => i).filter((i) => i % this.workers.length === k);
      if (mine.length === 0) return Promise.resolve([] as MicroBatchGradient[]);
      const req: WorkerStepRequest = { type: 'step', params, parts: mine.map((i) => parts[i]), weights: mine.map((i) => weights[i]) };
      return new Promise<WorkerStepResult>((resolve, reject) => {
        this.pending.set(w, { resolve, reject });
        w.postMessage(req);
      }).then((r) => {
        this.tensorCounts[k] = r.tensors;
        return r.parts.map((p, j) => ({ ...p, index: mine[j] }));
      });
    });
    const results = (await Promise.all(jobs)).flat();
    return results.sort((a, b) => a.index - b.index);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
