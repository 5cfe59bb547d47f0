/**
 * How the library runs, as opposed to what it computes: the DIFFUSION_* environment variables,
 * read once (at the first call, which initBackend makes the start of a run), checked, recorded in
 * every run.json and in the report's cache key. Kernels, worker pools and the backend choice read
 * their settings here, never from process.env.
 *
 * No Node-only imports: the browser demos bundle this file (esbuild defines process.env there).
 */

export type BackendChoice = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'auto'];

/** The most threads XNNPACK's pool may have on the wasm backend. */
export const WASM_MAX_THREADS = 8;
/** The most worker threads an explicit worker count may ask for. */
export const MAX_WORKERS = 16;

export interface RuntimeOptions {
  /** DIFFUSION_BACKEND: the TensorFlow.js backend; 'auto' picks native TensorFlow, else wasm, else cpu. */
  backend: BackendChoice;
  /** DIFFUSION_WASM_THREADS (1..8): XNNPACK's threads on wasm; null = one per core. */
  wasmThreads: number | null;
  /** DIFFUSION_TRAIN_WORKERS (0..16): gradient workers; 0 or 1 train in the main thread; null = automatic. */
  trainWorkers: number | null;
  /** DIFFUSION_SAMPLE_WORKERS (0..16): UNet workers for sampling; 0 or 1 sample in the calling thread; null = automatic. */
  sampleWorkers: number | null;
  /** DIFFUSION_SIMD_KERNELS (0/1): the project's WebAssembly SIMD kernels; 0 = JavaScript loops and the backend's own kernels. */
  simdKernels: boolean;
  /** DIFFUSION_SIMD_HELPER (0/1): a helper thread shares the SIMD kernels' work; 0 = the calling thread only. */
  simdHelper: boolean;
  /** DIFFUSION_SIMD_WINOGRAD (0/1): Winograd for 3x3 and 2x2 convs; 0 = the direct SIMD conv. */
  winograd: boolean;
  /** DIFFUSION_FUSED_KERNELS (0/1): the fused BatchNorm + GELU kernels; 0 = separate ops. */
  fusedKernels: boolean;
}

type Parser<T> = (value: string, name: string) => T;

interface Setting<K extends keyof RuntimeOptions> {
  key: K;
  parse: Parser<RuntimeOptions[K]>;
  fallback: RuntimeOptions[K];
}

/** A setting given a value it cannot take: names the variable, the value and what it may be. */
export class RuntimeOptionError extends Error {
  override name = 'RuntimeOptionError';
}

const choice =
  <T extends string>(values: readonly T[], what: string): Parser<T> =>
  (value, name) => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new RuntimeOptionError(`${name}=${value} is not ${what}. Use one of: ${values.join(', ')}.`);
  };

const count =
  (min: number, max: number, what: string, meaning: string): Parser<number | null> =>
  (value, name) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new RuntimeOptionError(`${name}=${value} is not ${what}. Use a whole number from ${min} to ${max} (${meaning}), or unset it for one per core.`);
    }
    return n;
  };

const onOff: Parser<boolean> = (value, name) => {
  if (value === '1') return true;
  if (value === '0') return false;
  throw new RuntimeOptionError(`${name}=${value} is not a switch. Use 1 (on, the default) or 0 (off), or unset it.`);
};

const SETTINGS: Record<string, Setting<keyof RuntimeOptions>> = {
  DIFFUSION_BACKEND: { key: 'backend', parse: choice(BACKEND_CHOICES, 'a backend'), fallback: 'auto' },
  DIFFUSION_WASM_THREADS: { key: 'wasmThreads', parse: count(1, WASM_MAX_THREADS, 'a thread count', '1 turns threading off'), fallback: null },
  DIFFUSION_TRAIN_WORKERS: { key: 'trainWorkers', parse: count(0, MAX_WORKERS, 'a worker count', '0 or 1 trains in the main thread'), fallback: null },
  DIFFUSION_SAMPLE_WORKERS: { key: 'sampleWorkers', parse: count(0, MAX_WORKERS, 'a worker count', '0 or 1 samples in the calling thread'), fallback: null },
  DIFFUSION_SIMD_KERNELS: { key: 'simdKernels', parse: onOff, fallback: true },
  DIFFUSION_SIMD_HELPER: { key: 'simdHelper', parse: onOff, fallback: true },
  DIFFUSION_SIMD_WINOGRAD: { key: 'winograd', parse: onOff, fallback: true },
  DIFFUSION_FUSED_KERNELS: { key: 'fusedKernels', parse: onOff, fallback: true },
};

/** The environment variable that sets each option. */
export const RUNTIME_OPTION_VARIABLES = Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [s.key, name])) as Record<keyof RuntimeOptions, string>;

/**
 * DIFFUSION_* variables that are not runtime options: places (read where they are used) and the
 * test suite's and report builder's own hooks. Anything else starting with DIFFUSION_ is a typo.
 */
const OTHER_VARIABLES = [
  'DIFFUSION_OUTPUTS',
  'DIFFUSION_FIGURES_DIR',
  'DIFFUSION_DATA_CACHE',
  'DIFFUSION_DEBUG',
  'DIFFUSION_PARENT_PID',
  'DIFFUSION_CWD',
  'DIFFUSION_REQUIRE_TORCH',
  'DIFFUSION_PROGRESS_STDERR',
];

/** Parses and checks the runtime options from an environment (default: this process's). */
export function parseRuntimeOptions(env: Record<string, string | undefined> = process.env): RuntimeOptions {
  const options = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.key, s.fallback])) as unknown as Record<string, unknown>;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('DIFFUSION_')) continue;
    const setting = SETTINGS[name];
    if (!setting) {
      if (OTHER_VARIABLES.includes(name)) continue;
      throw new RuntimeOptionError(
        `${name} is not a setting of this library. Settings: ${Object.keys(SETTINGS).join(', ')}; also ${OTHER_VARIABLES.join(', ')}.`,
      );
    }
    const value = raw?.trim();
    if (value) options[setting.key] = setting.parse(value, name);
  }
  return options as unknown as RuntimeOptions;
}

let current: RuntimeOptions | null = null;

/** The runtime options of this process: read from the environment at start-up (or the first call), then fixed. */
export function runtimeOptions(): RuntimeOptions {
  current ??= parseRuntimeOptions();
  return current;
}

/** Reads the options from the environment again and fixes them: initBackend does, as a run starts. */
export function readRuntimeOptions(): RuntimeOptions {
  current = parseRuntimeOptions();
  return current;
}

/**
 * Replaces some options until the returned function is called (tests and benchmarks comparing
 * kernels). Worker threads started meanwhile get the same values through their environment
 * (runtimeOptionsEnv).
 */
export function overrideRuntimeOptions(changes: Partial<RuntimeOptions>): () => void {
  const before = runtimeOptions();
  current = { ...before, ...changes };
  return () => {
    current = before;
  };
}

/** The options as environment variables, for a worker thread or child process to read the same ones. */
export function runtimeOptionsEnv(options: RuntimeOptions = runtimeOptions()): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, s] of Object.entries(SETTINGS)) {
    const value = options[s.key];
    if (value === null) continue;
    env[name] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  }
  return env;
}
