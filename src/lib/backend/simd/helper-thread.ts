// A second thread for the SIMD kernels on a shared wasm heap.
//
// The threaded wasm backend's heap is a shared memory, so a Node worker thread can run the same
// SIMD modules on the same tensors. A kernel call is then split in two: the worker takes half of
// the work (the second half of a conv's images, of GELU's values, of BatchNorm's rows) and the
// calling thread the other half; each output is computed exactly as on one thread, so the result
// is the same bit for bit. This is what lets sampling (the main thread's UNet calls) use
// both cores; the training workers run one-thread backends with unshared heaps and need no helper.
//
// The two threads meet through a few words of the shared heap (no messages, which would need the
// worker's event loop): the main thread writes a call (kernel index and integer arguments), sets
// the state word to POSTED and wakes the worker with Atomics.notify; the worker runs the call,
// sets DONE and notifies; the main thread waits for DONE with Atomics.wait (allowed on Node's
// main thread). The worker is unref'ed (it never keeps the process alive).
import { Worker } from 'worker_threads';
import * as os from 'os';
import type { WasmMemory } from './module';

const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const QUIT = 3;
const FAILED = 4;
/** Int32 words of the control block: state, kernel index, argument count, arguments. */
export const CONTROL_WORDS = 32;

// The worker: instantiate the modules on the shared memory, then serve calls until told to quit.
// Kernels are numbered as kernelNames() numbers them.
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { modules, memory, control } = workerData;
const table = [];
for (const label of Object.keys(modules).sort()) {
  const exports = new WebAssembly.Instance(modules[label], { env: { memory } }).exports;
  for (const name of WebAssembly.Module.exports(modules[label]).filter((e) => e.kind === 'function').map((e) => e.name)) {
    table.push(exports[name]);
  }
}
const word = new Int32Array(memory.buffer, control, ${CONTROL_WORDS});
for (;;) {
  Atomics.wait(word, 0, ${IDLE});
  const state = Atomics.load(word, 0);
  if (state === ${QUIT}) break;
  if (state !== ${POSTED}) continue;
  const args = Array.from(word.subarray(3, 3 + word[2]));
  let outcome = ${DONE};
  try {
    table[word[1]](...args);
  } catch (error) {
    outcome = ${FAILED};
  }
  Atomics.store(word, 0, outcome);
  Atomics.notify(word, 0);
}
`;

interface WasmModuleApi {
  Module: { exports(module: object): Array<{ name: string; kind: string }> };
}

/** "label.kernel" for every exported function, in the worker's numbering. */
function kernelNames(modules: Record<string, object>): string[] {
  const api = (globalThis as unknown as { WebAssembly: WasmModuleApi }).WebAssembly;
  return Object.keys(modules)
    .sort()
    .flatMap((label) => api.Module.exports(modules[label]).filter((e) => e.kind === 'function').map((e) => `${label}.${e.name}`));
}

export class HelperThread {
  private readonly word: Int32Array;
  private busy = false;

  private constructor(
    private readonly worker: Worker,
    memory: WasmMemory,
    control: number,
    private readonly names: string[],
  ) {
    this.word = new Int32Array(memory.buffer, control, CONTROL_WORDS);
  }

  /**
   * A helper for `modules` (by label, each compiled for a shared memory) on `memory`, with its
   * control block at `control` (CONTROL_WORDS int32 words of the heap); null where it cannot help:
   * an unshared memory, or a single core.
   */
  static start(modules: Record<string, object>, memory: WasmMemory, control: number): HelperThread | null {
    if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) return null;
    if (os.availableParallelism() < 2) return null;
    new Int32Array(memory.buffer, control, CONTROL_WORDS).fill(0);
    const names = kernelNames(modules);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { modules, memory, control } });
    worker.unref();
    worker.on('error', (error) => {
      process.stderr.write(`[diffusion] SIMD helper thread failed: ${error.message}\n`);
    });
    return new HelperThread(worker, memory, control, names);
  }

  /** Starts `kernel(...args)` ("label.name", integer arguments) on the helper thread. */
  post(kernel: string, args: number[]): void {
    if (this.busy) throw new Error('HelperThread: a call is already running; wait() for it first.');
    const index = this.names.indexOf(kernel);
    if (index < 0) throw new Error(`HelperThread: unknown kernel ${kernel}.`);
    if (args.length > CONTROL_WORDS - 3) throw new Error(`HelperThread: ${args.length} arguments, at most ${CONTROL_WORDS - 3}.`);
    this.word[1] = index;
    this.word[2] = args.length;
    this.word.set(args, 3);
    this.busy = true;
    Atomics.store(this.word, 0, POSTED);
    Atomics.notify(this.word, 0);
  }

  /** Blocks until the posted call has finished; throws if it failed. */
  wait(): void {
    if (!this.busy) return;
    while (Atomics.load(this.word, 0) === POSTED) Atomics.wait(this.word, 0, POSTED, 1000);
    const outcome = Atomics.load(this.word, 0);
    Atomics.store(this.word, 0, IDLE);
    this.busy = false;
    if (outcome === FAILED) throw new Error('The SIMD helper thread\'s kernel call failed (a WebAssembly trap).');
  }

  /** Stops the thread. */
  stop(): Promise<number> {
    Atomics.store(this.word, 0, QUIT);
    Atomics.notify(this.word, 0);
    return this.worker.terminate();
  }
}
