// Evaluating a UNet on every core: worker threads (unet-worker.ts) each hold a copy of the model
// and compute a share of every call's images on a single-threaded backend, while the calling
// thread waits. Calls are synchronous (the caller blocks in Atomics.wait on shared memory), so a
// sampling loop stays a plain loop. In eval mode no image depends on another, and every kernel
// computes an image the same way on one thread or two, so the outputs are the same bits with or
// without workers (tested): workers change the speed, never the samples.
//
// Why: on wasm the calling thread splits only the SIMD kernels with its helper thread, which at
// D=16 gains nothing and at D=64 1.35-1.45x over one thread; two single-thread evaluators side by
// side reach 1.4-1.6x (docs/performance.md).
import * as os from 'os';
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'worker_threads';
import { BackendInfo } from '../backend/select';
import { MAX_WORKERS, noteOnce, workerScript, workerScriptProblem } from '../worker-script';
import type { UNet } from './unet';
import type { UNetWorkerInit } from './unet-worker';
import { sharedBytes, SharedLayout, sharedViews, SharedViews, STATE, WORKER_WORDS, WorkerState } from './unet-shared';
import { RUNTIME_OPTION_VARIABLES, runtimeOptions, runtimeOptionsEnv } from '../runtime-options';

/** Environment variable: number of sampling workers (0 or 1 = evaluate in the calling thread). */
export const SAMPLE_WORKERS_ENV_VAR = RUNTIME_OPTION_VARIABLES.sampleWorkers;
const WORKER_FILE = 'nn/unet-worker.js';
/** How long the workers may take to start (backend, model) before it is an error. */
const START_TIMEOUT_MS = 120_000;

/**
 * How many UNet workers to use. An explicit count (argument, else DIFFUSION_SAMPLE_WORKERS) wins;
 * by default wasm uses one per core when the compiled worker script is there and current (the
 * cpu backend is for tests; native TensorFlow already uses every core per kernel). 0 means none.
 */
export function sampleWorkerCount(backend: BackendInfo['name'], requested?: number): number {
  let n = requested ?? runtimeOptions().sampleWorkers;
  if (n === null) {
    if (backend !== 'wasm' || os.availableParallelism() < 2) return 0;
    const problem = workerScriptProblem(WORKER_FILE);
    if (problem) {
      noteOnce(`[diffusion] sampling in the calling thread, without UNet workers: ${problem}`);
      return 0;
    }
    n = os.availableParallelism();
  }
  if (!Number.isInteger(n) || n < 0 || n > MAX_WORKERS) throw new Error(`workers must be a whole number from 0 to ${MAX_WORKERS}, got ${n}`);
  return n < 2 ? 0 : n;
}

/** A pool of workers evaluating copies of one UNet (its parameters as they were at start). */
export class UNetWorkers {
  private usable = true;

  private constructor(
    private readonly workers: Worker[],
    private readonly ports: MessagePort[],
    private readonly layout: SharedLayout,
    private readonly views: SharedViews,
    private readonly conditioning: UNet['config']['conditioning'],
  ) {}

  get size(): number {
    return this.workers.length;
  }

  /**
   * Starts `count` workers on `backend`, each with a copy of `model`, and waits (blocking) until
   * they are ready. `capacity`: images per worker round (larger calls are split).
   */
  static start(model: UNet, count: number, backend: BackendInfo['name'], capacity = 128): UNetWorkers {
    const script = workerScript(WORKER_FILE);
    const problem = workerScriptProblem(WORKER_FILE);
    if (!script || problem) {
      throw new Error(`The UNet worker script cannot be used: ${problem ?? 'it is missing'}. Run \`npm run build\`, or set ${SAMPLE_WORKERS_ENV_VAR}=0.`);
    }
    if (!Number.isInteger(count) || count < 1) throw new Error(`UNetWorkers: count must be a positive integer, got ${count}`);
    const { channels, numClasses, conditioning } = model.config;
    const layout: SharedLayout = { workers: count, capacity, height: model.imageSize, width: model.imageSize, channels, numClasses };
    const shared = new SharedArrayBuffer(sharedBytes(layout));
    const views = sharedViews(shared, layout);
    const values = model.stateEntries().map(([name, v]): [string, number[], Float32Array] => [name, v.shape, v.dataSync() as Float32Array]);
    // The workers run with this process's runtime options, each on one wasm thread.
    const env = { ...process.env, ...runtimeOptionsEnv(), [RUNTIME_OPTION_VARIABLES.wasmThreads]: '1' };
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    for (let index = 0; index < count; index++) {
      const { port1, port2 } = new MessageChannel();
      const init: UNetWorkerInit = { config: model.config, backend, values, layout, shared, index, errors: port2 };
      const worker = new Worker(script, { workerData: init, transferList: [port2], env });
      worker.unref(); // waiting workers never keep the process alive
      workers.push(worker);
      ports.push(port1);
    }
    const pool = new UNetWorkers(workers, ports, layout, views, conditioning);
    const started = Date.now();
    for (let k = 0; k < count; k++) {
      const word = k * WORKER_WORDS + STATE.state;
      while (Atomics.load(views.control, word) === WorkerState.Starting && Date.now() - started < START_TIMEOUT_MS) {
        Atomics.wait(views.control, word, WorkerState.Starting, 1000);
      }
      const state = Atomics.load(views.control, word);
      if (state !== WorkerState.Idle) {
        const why = state === WorkerState.Starting ? `not ready after ${START_TIMEOUT_MS / 1000} s` : pool.message(k);
        pool.close();
        throw new Error(`Could not start the UNet workers: ${why}. Set ${SAMPLE_WORKERS_ENV_VAR}=0 to evaluate in the calling thread.`);
      }
    }
    return pool;
  }

  /**
   * The model's outputs for `count` images x [count, 28, 28, C] with t [count] (t / T) and one-hot
   * c [count, numClasses] where the model is conditioned on them, as the model's forward gives them.
   */
  forward(x: Float32Array, count: number, t?: Float32Array, c?: Float32Array): Float32Array {
    if (!this.usable) throw new Error('UNetWorkers: this pool failed or was closed; start a new one.');
    const { capacity, numClasses } = this.layout;
    const pixels = this.layout.height * this.layout.width * this.layout.channels;
    const needT = this.conditioning !== 'none';
    const needC = this.conditioning === 'class';
    if (x.length !== count * pixels) throw new Error(`UNetWorkers.forward: x has ${x.length} values, ${count} images need ${count * pixels}.`);
    if (needT && t?.length !== count) throw new Error(`UNetWorkers.forward: this ${this.conditioning}-conditioned UNet needs t with ${count} values.`);
    if (needC && c?.length !== count * numClasses)
      throw new Error(`UNetWorkers.forward: this class-conditioned UNet needs c with ${count} x ${numClasses} values.`);
    const out = new Float32Array(count * pixels);
    for (let start = 0; start < count; start += capacity) {
      const m = Math.min(capacity, count - start);
      this.views.x.set(x.subarray(start * pixels, (start + m) * pixels));
      if (needT) this.views.t.set(t!.subarray(start, start + m));
      if (needC) this.views.c.set(c!.subarray(start * numClasses, (start + m) * numClasses));
      this.run(m, needT, needC);
      out.set(this.views.out.subarray(0, m * pixels), start * pixels);
    }
    return out;
  }

  /** One round: images [0, m) of the shared inputs, in contiguous shares, one per worker. */
  private run(m: number, hasT: boolean, hasC: boolean): void {
    const control = this.views.control;
    const posted: number[] = [];
    for (let k = 0; k < this.workers.length; k++) {
      const first = Math.floor((k * m) / this.workers.length);
      const count = Math.floor(((k + 1) * m) / this.workers.length) - first;
      if (count === 0) continue;
      const base = k * WORKER_WORDS;
      control[base + STATE.first] = first;
      control[base + STATE.count] = count;
      control[base + STATE.hasT] = hasT ? 1 : 0;
      control[base + STATE.hasC] = hasC ? 1 : 0;
      Atomics.store(control, base + STATE.state, WorkerState.Posted);
      Atomics.notify(control, base + STATE.state);
      posted.push(k);
    }
    let failure: string | null = null;
    for (const k of posted) {
      const word = k * WORKER_WORDS + STATE.state;
      while (Atomics.load(control, word) === WorkerState.Posted) Atomics.wait(control, word, WorkerState.Posted);
      if (Atomics.load(control, word) !== WorkerState.Done) failure ??= this.message(k);
      Atomics.store(control, word, WorkerState.Idle);
    }
    if (failure !== null) {
      this.close();
      throw new Error(`A UNet worker failed: ${failure}.`);
    }
  }

  /** The failure message worker k sent, if any. */
  private message(k: number): string {
    const received = receiveMessageOnPort(this.ports[k]);
    return received ? String(received.message).replace(/\.$/, '') : 'no message (the worker stopped)';
  }

  /** Stops the workers (they exit after their current call). */
  close(): void {
    if (!this.usable) return;
    this.usable = false;
    for (let k = 0; k < this.workers.length; k++) {
      Atomics.store(this.views.control, k * WORKER_WORDS + STATE.state, WorkerState.Stop);
      Atomics.notify(this.views.control, k * WORKER_WORDS + STATE.state);
      void this.workers[k].terminate();
      this.ports[k].close();
    }
  }
}
