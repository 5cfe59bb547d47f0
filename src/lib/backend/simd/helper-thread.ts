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
// main thread). The worker is unref'ed (it never keeps the process alive) and lives as long as the
// process.
import { Worker } from 'worker_threads';
import * as os from 'os';
import type { WasmMemory } from './module';

/** Int32 words of the control block: state, kernel index, argument count, arguments; ready flag last. */
export const CONTROL_WORDS = 32;
const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const FAILED = 3;
/** The word the worker sets to 1 once it has instantiated the modules (-1 if it could not). */
const READY_WORD = CONTROL_WORDS - 1;
/** How long a call may wait for a worker that has not started before it is given up. */
const START_TIMEOUT_MS = 60_000;

// The worker: instantiate the modules on the shared memory, then serve calls for the life of the process.
// Kernels are numbered as kernelNames() numbers them.
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { modules, memory, control } = workerData;
const word = new Int32Array(memory.buffer, control, ${CONTROL_WORDS});
const table = [];
try {
  for (const label of Object.keys(modules).sort()) {
    const exports = new WebAssembly.Instance(modules[label], { env: { memory } }).exports;
    for (const name of WebAssembly.Module.exports(modules[label]).filter((e) => e.kind === 'function').map((e) => e.name)) {
      table.push(exports[name]);
    }
  }
} catch (error) {
  Atomics.store(word, ${READY_WORD}, -1);
  Atomics.notify(word, 0);
  throw error;
}
Atomics.store(word, ${READY_WORD}, 1);
for (;;) {
  Atomics.wait(word, 0, ${IDLE});
  if (Atomics.load(word, 0) !== ${POSTED}) continue;
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
    .flatMap((label) =>
      api.Module.exports(modules[label])
        .filter((e) => e.kind === 'function')
        .map((e) => `${label}.${e.name}`),
    );
}

export class HelperThread {
  /** False once the worker failed to start or a call failed on it: use it no more. */
  usable = true;
  private readonly word: Int32Array;
  private busy = false;

  private constructor(
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
    return new HelperThread(memory, control, names);
  }

  /** Starts `kernel(...args)` ("label.name", integer arguments) on the helper thread. */
  post(kernel: string, args: number[]): void {
    if (this.busy) throw new Error('HelperThread: a call is already running; wait() for it first.');
    const index = this.names.indexOf(kernel);
    if (index < 0) throw new Error(`HelperThread: unknown kernel ${kernel}.`);
    if (args.length > READY_WORD - 3) throw new Error(`HelperThread: ${args.length} arguments, at most ${READY_WORD - 3}.`);
    this.word[1] = index;
    this.word[2] = args.length;
    this.word.set(args, 3);
    this.busy = true;
    Atomics.store(this.word, 0, POSTED);
    Atomics.notify(this.word, 0);
  }

  /**
   * Blocks until the posted call has finished. False if it did not run: the worker failed to
   * start, did not start within a minute (its error events cannot arrive while this thread is
   * blocked, so it is asked directly), or the call trapped there; the caller then runs that part
   * itself, and this helper is not used again.
   */
  wait(): boolean {
    if (!this.busy) return true;
    const start = Date.now();
    let outcome = Atomics.load(this.word, 0);
    while (outcome === POSTED) {
      Atomics.wait(this.word, 0, POSTED, 1000);
      outcome = Atomics.load(this.word, 0);
      const ready = Atomics.load(this.word, READY_WORD);
      if (outcome === POSTED && (ready === -1 || (ready === 0 && Date.now() - start > START_TIMEOUT_MS))) break;
    }
    this.busy = false;
    if (outcome === DONE) {
      Atomics.store(this.word, 0, IDLE);
      return true;
    }
    // Withdraw the call, so that a worker starting late does not run it (it runs nothing more).
    Atomics.compareExchange(this.word, 0, POSTED, IDLE);
    this.usable = false;
    process.stderr.write('[diffusion] the SIMD helper thread could not run a kernel; every kernel now runs on the calling thread.\n');
    return false;
  }
}
