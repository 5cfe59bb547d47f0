// Chooses and starts the TensorFlow.js backend, once per process.
//
// Order for 'auto': @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node (both optional, not in
// package.json: a user installs one to get native TensorFlow), then the wasm backend, then the
// plain JavaScript cpu backend. DIFFUSION_BACKEND (or the `backend` option, which wins over the
// variable) forces one; a forced backend that cannot load is an error that says how to install it.
//
// tfjs-node registers its 'tensorflow' backend into the @tensorflow/tfjs-core that its
// @tensorflow/tfjs dependency loads. That must be the same tfjs-core VERSION as ours (tf.ts):
// npm shares one copy when the versions match (install @tensorflow/tfjs-node@<our
// tfjs-core version>). A second copy of the same version still works, because tfjs-core keeps its
// engine and kernel/gradient registries on the global object; a different version is refused.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from './tf';
import { attachWasmBackendHeap, registerProjectWasmKernels } from './wasm-setup';
import { disableWasmThreads, enableWasmThreads, releaseWasmWorkers, WASM_THREADS_ENV_VAR, WasmThreadsPatch, wasmThreadsRequested } from './wasm-threads';
import { BACKEND_CHOICES, BackendChoice, readRuntimeOptions, RUNTIME_OPTION_VARIABLES, RuntimeOptionError, runtimeOptions } from '../runtime-options';

export { BACKEND_CHOICES, type BackendChoice };

/** Environment variable that forces a backend (values: BACKEND_CHOICES). */
export const BACKEND_ENV_VAR = RUNTIME_OPTION_VARIABLES.backend;

export interface BackendInfo {
  /** The tfjs backend name, as tf.getBackend() reports it. */
  name: 'tensorflow' | 'wasm' | 'cpu';
  /** The npm package that provides it. */
  package: string;
  /** That package's version. */
  version: string;
  /**
   * Threads the backend computes with: native TensorFlow's default (all logical cores); for wasm
   * the size of XNNPACK's thread pool as the backend reports it (DIFFUSION_WASM_THREADS, default
   * one per core; see wasm-threads.ts).
   */
  threads: number;
  /** wasm only: whether the SIMD build of the wasm binary runs. */
  simd: boolean;
  /** Whether native TensorFlow runs on a GPU device. */
  gpu: boolean;
  /** Whether DIFFUSION_BACKEND or the backend option chose it (rather than 'auto'). */
  forced: boolean;
}

export interface InitBackendOptions {
  /** Overrides DIFFUSION_BACKEND; 'auto' (the default) defers to the variable. */
  backend?: BackendChoice;
  /** Do not print the one-line backend description to stderr. */
  quiet?: boolean;
}

type ForcedChoice = Exclude<BackendChoice, 'auto'>;

interface Request {
  choice: BackendChoice;
  /** Where the choice came from, for messages. */
  source: string;
}

const CORE_PACKAGE = '@tensorflow/tfjs-core';
const UNION_PACKAGE = '@tensorflow/tfjs';
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const CPU_PACKAGE = '@tensorflow/tfjs-backend-cpu';

const PACKAGES: Record<ForcedChoice, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: WASM_PACKAGE,
  cpu: CPU_PACKAGE,
};

function installHint(choice: ForcedChoice): string {
  const command = `npm install --no-save ${PACKAGES[choice]}@${tf.version_core}`;
  switch (choice) {
    case 'tensorflow-gpu':
      return (
        `${command} (Linux x64 with an NVIDIA GPU, CUDA 11.2 and cuDNN 8.1; its install step ` +
        `downloads the TensorFlow C library 2.9.1; install it again after every npm ci, which removes it)`
      );
    case 'tensorflow':
      return `${command} (its install step downloads the TensorFlow C library)`;
    default:
      return command;
  }
}

// ---------------------------------------------------------------------------------------------
// Finding packages

/** Where the optional tfjs-node packages are looked up from; tests point it at fake packages. */
let searchFrom = __dirname;

/** The entry file of the package behind a choice, or undefined when it is not installed. */
function entryOf(choice: ForcedChoice): string | undefined {
  const optional = choice === 'tensorflow-gpu' || choice === 'tensorflow';
  return resolvePackage(PACKAGES[choice], optional ? searchFrom : __dirname);
}

/** The entry file of an installed package, or undefined when it is not installed. */
function resolvePackage(name: string, from: string): string | undefined {
  try {
    return require.resolve(name, { paths: [from] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

interface PackageJson {
  name: string;
  version: string;
  dir: string;
}

/** The package.json of package `name` that contains `entryFile` (works despite "exports"). */
function packageJsonOf(entryFile: string, name: string): PackageJson {
  for (let dir = path.dirname(entryFile); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === name) return { name, version: json.version ?? 'unknown', dir };
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`Cannot find the package.json of ${name} above ${entryFile}. Reinstall ${name}.`);
    }
  }
}

/** Loads a package by its resolved entry file (a plain require; the name is a variable so that
 * TypeScript needs no types for the optional packages). */
function load(entryFile: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional package, found at run time
  return require(entryFile) as unknown;
}

// ---------------------------------------------------------------------------------------------
// The backends

/** Throws unless a tfjs-node package registers into a tfjs-core of our version. */
function checkSameCore(pkg: PackageJson): void {
  const ours = require.resolve(CORE_PACKAGE);
  // tfjs-node imports @tensorflow/tfjs, which imports tfjs-core; resolve the same way.
  const union = resolvePackage(UNION_PACKAGE, pkg.dir);
  const theirs = resolvePackage(CORE_PACKAGE, union === undefined ? pkg.dir : path.dirname(union));
  if (theirs === undefined) {
    throw new Error(
      `${pkg.name} ${pkg.version} is installed but ${CORE_PACKAGE} cannot be found from ${pkg.dir}. ` +
        `Reinstall it: npm install ${pkg.name}@${tf.version_core}`,
    );
  }
  if (fs.realpathSync(theirs) === fs.realpathSync(ours)) return;
  const theirCore = packageJsonOf(theirs, CORE_PACKAGE);
  if (theirCore.version !== tf.version_core) {
    throw new Error(
      `${pkg.name} ${pkg.version} loads ${CORE_PACKAGE} ${theirCore.version} (${theirCore.dir}), ` +
        `but this library uses ${CORE_PACKAGE} ${tf.version_core} (${packageJsonOf(ours, CORE_PACKAGE).dir}); ` +
        `the two versions cannot share a backend. Install the matching version: ` +
        `npm install --no-save ${pkg.name}@${tf.version_core} ` +
        `(or set ${BACKEND_ENV_VAR}=wasm to skip native TensorFlow).`,
    );
  }
}

async function activate(name: BackendInfo['name'], pkg: string): Promise<void> {
  if (!(await tf.setBackend(name))) {
    throw new Error(
      `The ${name} backend from ${pkg} failed to initialise (see the warning above). ` +
        `Reinstall it (npm install ${pkg}@${tf.version_core}) or choose another backend with ${BACKEND_ENV_VAR}.`,
    );
  }
  await tf.ready();
}

async function loadTensorflow(choice: 'tensorflow-gpu' | 'tensorflow', entry: string): Promise<BackendInfo> {
  const pkg = packageJsonOf(entry, PACKAGES[choice]);
  checkSameCore(pkg);
  // Loading it registers the 'tensorflow' backend (and selects it) in the global tfjs engine.
  try {
    load(entry);
  } catch (error) {
    throw new Error(
      `${pkg.name} ${pkg.version} is installed but failed to load: ${(error as Error).message}. ` +
        `Reinstall it (npm install ${pkg.name}@${tf.version_core}, which downloads the TensorFlow C ` +
        `library) or set ${BACKEND_ENV_VAR}=wasm to skip it.`,
      { cause: error },
    );
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    throw new Error(
      `${pkg.name} loaded but its 'tensorflow' backend is not visible to this library's ${CORE_PACKAGE}. ` +
        `Make both use one copy: npm install --no-save ${pkg.name}@${tf.version_core} (npm shares one ${CORE_PACKAGE} when the versions match).`,
    );
  }
  await activate('tensorflow', pkg.name);
  // NodeJSKernelBackend reports whether TensorFlow placed ops on a GPU device.
  const backend = tf.backend() as tf.KernelBackend & { isUsingGpuDevice?: boolean };
  return {
    name: 'tensorflow',
    package: pkg.name,
    version: pkg.version,
    threads: os.availableParallelism(),
    simd: false,
    gpu: backend.isUsingGpuDevice === true,
    forced: false,
  };
}

interface WasmPackage {
  setWasmPaths(prefix: string): void;
  setThreadsCount(threads: number): void;
  getThreadsCount(): number;
  version_wasm: string;
}

/** The one line printed when threads were asked for but the backend runs on fewer. */
function fewerThreadsNote(wanted: number, actual: number, reason: string): void {
  process.stderr.write(
    `[diffusion] wasm: running on ${actual} thread${actual === 1 ? '' : 's'} instead of ${wanted} ` +
      `(${reason.replace(/\s+/g, ' ')}); set ${WASM_THREADS_ENV_VAR}=${actual} to silence this.\n`,
  );
}

async function loadWasm(entry: string): Promise<BackendInfo> {
  const threads = wasmThreadsRequested();
  const wasm = load(entry) as WasmPackage;
  // The .wasm binaries sit next to the node bundle. Point at them explicitly so that loading does
  // not depend on the working directory (dist/, a notebook kernel) or on a bundler's layout.
  const distDir = path.dirname(entry);
  if (!fs.existsSync(path.join(distDir, 'tfjs-backend-wasm.wasm'))) {
    throw new Error(`The wasm binaries are missing from ${distDir}. Reinstall: npm install ${WASM_PACKAGE}@${tf.version_core}`);
  }
  // No effect if wasm was already initialised (e.g. by the user); the binaries are the same.
  wasm.setWasmPaths(distDir + path.sep);
  registerProjectWasmKernels();
  // Threads: see wasm-threads.ts. Any failure falls back to tfjs's own single-threaded setup.
  let threading: WasmThreadsPatch | undefined;
  if (threads > 1) {
    try {
      threading = await enableWasmThreads(wasm, distDir, threads);
    } catch (error) {
      fewerThreadsNote(threads, 1, (error as Error).message);
    }
  }
  try {
    await activate('wasm', WASM_PACKAGE);
  } catch (error) {
    if (threading === undefined) throw error;
    threading.restore();
    threading = undefined;
    disableWasmThreads(wasm);
    fewerThreadsNote(threads, 1, 'the threaded backend failed to start, see the warning above');
    await activate('wasm', WASM_PACKAGE);
  } finally {
    threading?.restore();
  }
  attachWasmBackendHeap();
  const actual = wasm.getThreadsCount();
  if (threading !== undefined) {
    releaseWasmWorkers();
    if (actual !== threads) {
      fewerThreadsNote(threads, actual, 'the wasm backend was started before initBackend, or tfjs capped the count');
    }
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  return {
    name: 'wasm',
    package: WASM_PACKAGE,
    version: wasm.version_wasm,
    threads: actual,
    simd,
    gpu: false,
    forced: false,
  };
}

async function loadCpu(entry: string): Promise<BackendInfo> {
  const cpu = load(entry) as { version_cpu: string };
  await activate('cpu', CPU_PACKAGE);
  // The cpu backend prints a multi-line advert for tfjs-node on its first write; initBackend
  // prints its own one line instead. (`firstUse` is the backend's private flag for that advert.)
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return {
    name: 'cpu',
    package: CPU_PACKAGE,
    version: cpu.version_cpu,
    threads: 1,
    simd: false,
    gpu: false,
    forced: false,
  };
}

function loadChoice(choice: ForcedChoice, entry: string): Promise<BackendInfo> {
  switch (choice) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return loadTensorflow(choice, entry);
    case 'wasm':
      return loadWasm(entry);
    case 'cpu':
      return loadCpu(entry);
  }
}

// ---------------------------------------------------------------------------------------------
// Choosing

function parseChoice(value: string, source: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Error(`${source} is not a backend. Use one of: ${BACKEND_CHOICES.join(', ')}.`);
}

function request(opts: InitBackendOptions): Request {
  if (opts.backend !== undefined && opts.backend !== 'auto') {
    const source = `initBackend({ backend: '${opts.backend}' })`;
    return { choice: parseChoice(opts.backend, source), source };
  }
  const { backend } = runtimeOptions();
  if (backend !== 'auto') return { choice: backend, source: `${BACKEND_ENV_VAR}=${backend}` };
  return { choice: 'auto', source: 'auto' };
}

async function forced(req: Request & { choice: ForcedChoice }): Promise<BackendInfo> {
  const pkg = PACKAGES[req.choice];
  const entry = entryOf(req.choice);
  if (entry === undefined) {
    throw new Error(
      `${req.source} asks for ${pkg}, which is not installed. Install it with: ${installHint(req.choice)}; ` +
        `or choose another backend (${BACKEND_ENV_VAR}=wasm, cpu or auto).`,
    );
  }
  try {
    return { ...(await loadChoice(req.choice, entry)), forced: true };
  } catch (error) {
    throw new Error(`${req.source}: ${(error as Error).message}`, { cause: error });
  }
}

async function auto(): Promise<{ info: BackendInfo; note?: string }> {
  for (const choice of ['tensorflow-gpu', 'tensorflow'] as const) {
    const entry = entryOf(choice);
    // Installed but broken is an error rather than a silent, much slower fallback.
    if (entry !== undefined) return { info: await loadChoice(choice, entry) };
  }
  const wasmEntry = entryOf('wasm');
  let note: string | undefined;
  if (wasmEntry !== undefined) {
    try {
      return { info: await loadWasm(wasmEntry) };
    } catch (error) {
      if (error instanceof RuntimeOptionError) throw error;
      note = `wasm failed: ${(error as Error).message.replace(/\s+/g, ' ')}`;
    }
  }
  const cpuEntry = entryOf('cpu');
  if (cpuEntry === undefined) {
    throw new Error(`No TensorFlow.js backend is installed. Install one: ${installHint('wasm')}`);
  }
  return { info: await loadCpu(cpuEntry), note: note ?? `${WASM_PACKAGE} is not installed` };
}

/** The one line initBackend prints, e.g. "wasm (SIMD, 1 thread) @tensorflow/tfjs-backend-wasm 4.22.0". */
export function describeBackend(info: BackendInfo): string {
  const threads = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  let details = threads;
  if (info.name === 'wasm') details = `${info.simd ? 'SIMD' : 'no SIMD'}, ${threads}`;
  if (info.name === 'tensorflow') details = info.gpu ? 'GPU' : `CPU, ${threads}`;
  return `${info.name} (${details}) ${info.package} ${info.version}`;
}

// ---------------------------------------------------------------------------------------------
// State

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

function checkConsistent(info: BackendInfo, req: Request): BackendInfo {
  if (req.choice !== 'auto' && PACKAGES[req.choice] !== info.package) {
    throw new Error(
      `The backend is already ${info.name} (${info.package}); ${req.source} asks for ${req.choice}. ` +
        `The backend is chosen once per process: set ${BACKEND_ENV_VAR} before the first initBackend ` +
        `call and restart the process (or notebook kernel).`,
    );
  }
  return info;
}

async function start(req: Request, quiet: boolean): Promise<BackendInfo> {
  let info: BackendInfo;
  let note: string | undefined;
  if (req.choice === 'auto') {
    ({ info, note } = await auto());
  } else {
    info = await forced({ ...req, choice: req.choice });
  }
  if (!quiet) {
    const reason = info.forced ? ` [${req.source}]` : note === undefined ? '' : ` [${note}]`;
    process.stderr.write(`[diffusion] backend: ${describeBackend(info)}${reason}\n`);
  }
  current = info;
  return info;
}

/**
 * Chooses, loads and activates the backend, and registers the kernels it lacks. Call it once
 * before any tensor work; later calls return the same info (and reject a different explicit
 * choice). Prints one line to stderr the first time unless `quiet`.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  // A run starts here: the runtime options are read (and checked) once, as the backend starts.
  if (pending === undefined) readRuntimeOptions();
  const req = request(opts);
  if (pending === undefined) {
    const starting = start(req, opts.quiet === true);
    pending = starting;
    starting.catch(() => {
      // Let a later call try again, e.g. after installing a package.
      if (pending === starting) pending = undefined;
    });
  }
  return checkConsistent(await pending, req);
}

/** The backend initBackend chose. Throws if initBackend has not completed. */
export function backendInfo(): BackendInfo {
  if (current === undefined) {
    throw new Error('No backend yet: await initBackend() before using backendInfo() or tensors.');
  }
  return current;
}

/**
 * Tests only: forget the chosen backend so that initBackend chooses again, and optionally look
 * for optional packages from `searchFrom` instead of this library's folder. Loaded packages and
 * the engine's active backend are left as they are.
 */
export function resetBackendForTests(options: { searchFrom?: string } = {}): void {
  current = undefined;
  pending = undefined;
  searchFrom = options.searchFrom ?? __dirname;
}
