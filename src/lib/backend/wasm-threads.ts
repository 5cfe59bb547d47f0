// Several threads for the wasm backend in Node.
//
// @tensorflow/tfjs-backend-wasm 4.22 ships a threaded SIMD binary whose XNNPACK kernels
// (convolutions, matMul) split their work over a pthread pool, but in Node it never uses it.
// Three things stand in the way; each is worked around here at runtime, without editing
// node_modules, and only while the backend initialises:
//
// 1. tfjs sets the flag WASM_HAS_MULTITHREAD_SUPPORT to false whenever IS_NODE. We set it to true
//    (the public flag API) and pass the thread count with the package's setThreadsCount.
// 2. Emscripten starts each pthread worker from a blob: URL of its worker script and hands the
//    worker the main script as a Blob; Node's Worker accepts only files. So we write emscripten's
//    own worker script (the package's wasm-out/*.worker.js, identical to the one the bundle
//    embeds) to a temporary file, with a suffix that makes it load the main script
//    wasm-out/tfjs-backend-wasm-threaded-simd.js by path instead of from the Blob, and while the
//    backend initialises URL.createObjectURL returns that file's path for the worker's Blob.
// 3. The C++ side caps the thread count at hardwareConcurrency / 2 (it assumes two hyperthreads
//    per core), which emscripten reads in Node as os.cpus().length: 1 thread on a 2-core machine.
//    While the module starts, os.cpus() returns its list repeated so that the cap allows n.
//
// Afterwards both patches are undone, the temporary file is deleted (the workers have read it),
// the pthread workers are unref'ed (XNNPACK's threads wait for work forever and would otherwise
// keep the process alive), and the idle workers of emscripten's pool are stopped. Element-wise kernels, and the JavaScript kernels of
// fused-kernels.ts, stay on the main thread.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { tf } from './tf';
import { parseRuntimeOptions, RUNTIME_OPTION_VARIABLES, runtimeOptions, WASM_MAX_THREADS } from '../runtime-options';

/** The real `os` module object, which emscripten reads os.cpus() from (a namespace import is a copy). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object itself, not an import's copy
const osModule = require('os') as { cpus: () => os.CpuInfo[] };

/** Environment variable with the number of wasm threads (default: the number of cores). */
export const WASM_THREADS_ENV_VAR = RUNTIME_OPTION_VARIABLES.wasmThreads;

/** The most threads tfjs-backend-wasm uses: its C++ cap and the size of emscripten's worker pool. */
export { WASM_MAX_THREADS };

/** The part of the @tensorflow/tfjs-backend-wasm module that threading needs. */
export interface WasmThreadsPackage {
  setThreadsCount(threads: number): void;
  version_wasm: string;
}

/**
 * Versions of @tensorflow/tfjs-backend-wasm this workaround was checked against. It leans on
 * emscripten internals (the worker protocol, the core-count cap), so another version runs on one
 * thread, with a note, until it is checked (test/backend/wasm-threads.test.ts) and added here.
 */
export const WASM_THREADS_TESTED_VERSIONS: readonly string[] = ['4.22.0'];

/** The emscripten pieces of the running wasm backend that threading touches. */
interface EmscriptenWorker {
  unref(): void;
  terminate(): Promise<number>;
}
interface EmscriptenModule {
  PThread?: { runningWorkers: EmscriptenWorker[]; unusedWorkers: EmscriptenWorker[] };
}

/**
 * Threads asked for: DIFFUSION_WASM_THREADS (of the runtime options, or of `env` when given), or
 * the number of cores, at most WASM_MAX_THREADS. A bad value is a RuntimeOptionError.
 */
export function wasmThreadsRequested(env?: Record<string, string | undefined>): number {
  const threads = (env ? parseRuntimeOptions(env) : runtimeOptions()).wasmThreads;
  return threads ?? Math.max(1, Math.min(os.availableParallelism(), WASM_MAX_THREADS));
}

/** Where the package keeps emscripten's own scripts for the threaded binary. */
function emscriptenScripts(distDir: string): { main: string; worker: string; binary: string } {
  const out = path.join(distDir, '..', 'wasm-out');
  return {
    main: path.join(out, 'tfjs-backend-wasm-threaded-simd.js'),
    worker: path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js'),
    binary: path.join(distDir, 'tfjs-backend-wasm-threaded-simd.wasm'),
  };
}

/**
 * Emscripten's worker script, made loadable by Node from a file: its source (exported as a
 * string by the package) plus a suffix that replaces the main-script Blob of the worker's 'load'
 * message by the main script's path, which the worker's importScripts reads with fs.
 */
export function workerScriptSource(distDir: string): string {
  const scripts = emscriptenScripts(distDir);
  for (const file of Object.values(scripts)) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file path found at run time
  const { wasmWorkerContents } = require(scripts.worker) as { wasmWorkerContents?: unknown };
  if (typeof wasmWorkerContents !== 'string') {
    throw new Error(`${scripts.worker} does not export wasmWorkerContents (another tfjs version?)`);
  }
  // The suffix relies on these parts of emscripten's worker protocol; check they are there.
  for (const marker of ['self.onmessage=', 'e.data.urlOrBlob', 'importScripts(e.data.urlOrBlob)']) {
    if (!wasmWorkerContents.includes(marker)) {
      throw new Error(`the emscripten worker script has no "${marker}" (another tfjs version?)`);
    }
  }
  const suffix =
    `;(function(){var mainScript=${JSON.stringify(scripts.main)};var handle=self.onmessage;` +
    `self.onmessage=function(e){if(e.data&&e.data.cmd==="load"&&typeof e.data.urlOrBlob!=="string")` +
    `e.data.urlOrBlob=mainScript;return handle(e)}})();\n`;
  // Escape the string's newlines as tfjs does before making its Blob (they sit inside literals).
  const source = wasmWorkerContents.replace(/\n/g, '\\n') + suffix;
  new vm.Script(source, { filename: 'tfjs-backend-wasm-threaded-simd.worker.cjs' }); // parses, or throws
  return source;
}

/** Undoes the patches of enableWasmThreads; safe to call more than once. */
export interface WasmThreadsPatch {
  restore(): void;
}

/**
 * Makes the next initialisation of the wasm backend (tf.setBackend('wasm')) load the threaded
 * SIMD binary with `threads` threads. Call restore() once it has finished, failed or not.
 * Throws, changing nothing, when this Node cannot run it (the message says why).
 */
export async function enableWasmThreads(wasm: WasmThreadsPackage, distDir: string, threads: number): Promise<WasmThreadsPatch> {
  if (!WASM_THREADS_TESTED_VERSIONS.includes(wasm.version_wasm)) {
    throw new Error(`threads are enabled only for @tensorflow/tfjs-backend-wasm ${WASM_THREADS_TESTED_VERSIONS.join(', ')}, ` + `this is ${wasm.version_wasm}`);
  }
  if (typeof SharedArrayBuffer !== 'function') throw new Error('this Node has no SharedArrayBuffer');
  // Throws where wasm has no threads (shared memory). (The project's lib has no WebAssembly types.)
  const wasmApi = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => unknown } }).WebAssembly;
  new wasmApi.Memory({ initial: 1, maximum: 1, shared: true });
  if ((await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) !== true) {
    throw new Error('the threaded binary needs wasm SIMD, which this Node lacks');
  }
  const source = workerScriptSource(distDir);
  // A private folder (mkdtemp makes it 0700), so no other user can swap the script.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diffusion-wasm-threads-'));
  const workerFile = path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  try {
    fs.writeFileSync(workerFile, source);
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const createObjectURL = URL.createObjectURL;
  const cpus = osModule.cpus;
  // tfjs makes exactly one kind of JavaScript Blob URL: the pthread worker script's.
  URL.createObjectURL = (object: Blob): string => (object instanceof Blob && object.type === 'application/javascript' ? workerFile : createObjectURL(object));
  osModule.cpus = (): os.CpuInfo[] => {
    const real = cpus.call(osModule); // may be empty in some containers
    const spare = real[0] ?? { model: '', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
    return Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i] ?? spare);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  // Errors inside emscripten's start-up (in a worker, or in its callbacks) are rethrown by its own
  // uncaughtException handler and end the process; leave a hint on the way out.
  // (uncaughtExceptionMonitor observes without changing what happens.)
  const hint = (): void => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.stderr.write(
      `[diffusion] the wasm backend failed while starting ${threads} threads; ` + `set ${WASM_THREADS_ENV_VAR}=1 to run it on one thread.\n`,
    );
  };
  process.on('uncaughtExceptionMonitor', hint);

  let restored = false;
  return {
    restore(): void {
      if (restored) return;
      restored = true;
      process.removeListener('uncaughtExceptionMonitor', hint);
      URL.createObjectURL = createObjectURL;
      osModule.cpus = cpus;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Makes the next initialisation of the wasm backend single-threaded again (tfjs's Node default). */
export function disableWasmThreads(wasm: WasmThreadsPackage): void {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
}

/**
 * Settles emscripten's worker pool once the backend runs: unrefs the workers that run XNNPACK's
 * pthreads, so that the process can exit while they wait for work, and stops the idle ones.
 * Emscripten starts a pool of 8 workers (about 10 MB each) and XNNPACK keeps threads - 1 of them;
 * it creates no threads later, so the rest would only hold memory. Returns the running workers.
 */
export function releaseWasmWorkers(backend: tf.KernelBackend = tf.backend()): number {
  const pool = (backend as unknown as { wasm?: EmscriptenModule }).wasm?.PThread;
  if (pool === undefined) return 0;
  for (const worker of pool.runningWorkers) worker.unref();
  for (const worker of pool.unusedWorkers) void worker.terminate();
  pool.unusedWorkers = [];
  return pool.runningWorkers.length;
}
