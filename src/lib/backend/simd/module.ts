// Loading the embedded WebAssembly SIMD modules (*.wat, assembled by `npm run build:wasm`) and
// giving their kernels the arrays they work on.
//
// Every module imports its memory, and is instantiated up to twice:
// - on the wasm backend's heap (setBackendHeap): tensors are read and written in place, at the
//   pointers their heap views have; small per-call scratch lives in a block reserved once;
// - on a memory of its own, for arrays elsewhere (the cpu backend's): inputs are copied in and
//   results copied out (~0.1 ns per element).
import { setFlagsFromString } from 'v8';
import { CONTROL_WORDS, HelperThread } from './helper-thread';
import { RUNTIME_OPTION_VARIABLES, runtimeOptions } from '../../runtime-options';

// The project's TypeScript lib has no WebAssembly types (no DOM lib); the members used here:
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}

function webAssembly(): WasmApi {
  return (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
}

/** Environment variable: 0 runs the JavaScript loops / the backend's own kernels instead (for comparisons). */
export const SIMD_KERNELS_ENV_VAR = RUNTIME_OPTION_VARIABLES.simdKernels;

/** Whether the SIMD kernels are switched on (they are unless DIFFUSION_SIMD_KERNELS=0). */
export function simdKernelsEnabled(): boolean {
  return runtimeOptions().simdKernels;
}

/** The wasm backend's heap: its memory and allocator. */
export interface BackendHeap {
  memory: WasmMemory;
  malloc(bytes: number): number;
  free(pointer: number): void;
}

/** Bytes of per-call scratch kept on the heap (per-channel sums and coefficients, tap tables). */
const SCRATCH_BYTES = 256 * 1024;

/** Bytes after the scratch block for the helper thread's control words (helper-thread.ts). */
const CONTROL_BYTES = CONTROL_WORDS * 4;

let heap: { backend: BackendHeap; scratch: number } | undefined;

/**
 * Lets the kernels work on the wasm backend's heap in place (initBackend calls this). Reserves
 * the scratch block now, so that no kernel call grows the heap for it (a growth detaches the
 * heap views the caller holds).
 */
export function setBackendHeap(backend: BackendHeap): void {
  if (heap?.backend.memory === backend.memory) return;
  const block = backend.malloc(SCRATCH_BYTES + CONTROL_BYTES + 16);
  heap = { backend, scratch: Math.ceil(block / 16) * 16 };
}

/** The wasm backend's heap, if setBackendHeap was called. */
export function backendHeap(): BackendHeap | undefined {
  return heap?.backend;
}

/** Environment variable: 0 keeps every SIMD kernel on the calling thread (no helper thread). */
export const SIMD_HELPER_ENV_VAR = RUNTIME_OPTION_VARIABLES.simdHelper;

/** Every module, by label (the helper thread instantiates them all). */
const modules = new Map<string, SimdModule<unknown>>();

/** The helper thread on the current heap, started on first use; null where none helps. */
let helper: { memory: WasmMemory; thread: HelperThread | null } | undefined;

/**
 * The helper thread (helper-thread.ts) on the backend heap: on the threaded backend's shared heap
 * with two or more cores, unless DIFFUSION_SIMD_HELPER=0; else null.
 */
export function helperThread(): HelperThread | null {
  if (!runtimeOptions().simdHelper || heap === undefined) return null;
  if (helper?.memory !== heap.backend.memory) {
    const compiled: Record<string, object> = {};
    for (const [label, module] of modules) {
      const shared = module.sharedModule();
      if (shared !== null) compiled[label] = shared;
    }
    const thread = Object.keys(compiled).length === 0 ? null : HelperThread.start(compiled, heap.backend.memory, heap.scratch + SCRATCH_BYTES);
    helper = { memory: heap.backend.memory, thread };
  }
  return helper.thread?.usable ? helper.thread : null;
}

/**
 * Runs a kernel call over items [0, total) (images, rows, blocks of values): with the helper
 * thread taking [total / 2, total) and this thread the rest when there is a helper and at least
 * `minTotal` items, else all here. `args(first, count)` are the call's arguments for a range, the
 * same for `kernel` ("label.name") on the helper and for `local` here.
 */
export function runSplit(
  kernel: string,
  total: number,
  args: (first: number, count: number) => number[],
  local: (...args: number[]) => void,
  minTotal = 2,
): void {
  const thread = total >= Math.max(2, minTotal) ? helperThread() : null;
  if (thread === null) {
    local(...args(0, total));
    return;
  }
  const half = total >> 1;
  const helperPart = args(half, total - half);
  thread.post(kernel, helperPart);
  let helped: boolean;
  try {
    local(...args(0, half));
  } finally {
    helped = thread.wait();
  }
  if (!helped) local(...helperPart);
}

/** Whether every array is a view of the backend heap's current memory. */
export function onBackendHeap(arrays: ArrayBufferView[]): boolean {
  return heap !== undefined && arrays.every((a) => a.buffer === heap!.backend.memory.buffer);
}

export interface ModuleBytes {
  /** Assembled with the memory import as written. */
  plain: Uint8Array;
  /** The same module, its memory import declared shared (the threaded backend's heap). */
  shared: Uint8Array;
}

/**
 * One embedded module. With `relaxedSimd` it uses relaxed SIMD (fused multiply-add), on by default
 * from Node 22 (V8 11.4); Node 20 has it behind a V8 flag, which is switched on here when the
 * module does not compile without it. Where a module cannot be compiled at all (no SIMD), its
 * instances are null and the callers fall back to other code.
 */
export class SimdModule<T> {
  private compiled: { plain: object; shared: object } | null | undefined;
  private own: { kernels: T; memory: WasmMemory } | null | undefined;
  private heapInstance: { kernels: T | null; memory: WasmMemory } | undefined;

  /** `label` names the module's kernels on the helper thread ("label.kernel"). */
  constructor(
    label: string,
    private readonly bytes: ModuleBytes,
    private readonly options: { relaxedSimd?: boolean } = {},
  ) {
    if (modules.has(label)) throw new Error(`SimdModule: a second module labelled ${label}.`);
    modules.set(label, this as SimdModule<unknown>);
  }

  private compile(): { plain: object; shared: object } | null {
    if (this.compiled === undefined) {
      const wasm = webAssembly();
      const build = () => ({ plain: new wasm.Module(this.bytes.plain), shared: new wasm.Module(this.bytes.shared) });
      try {
        this.compiled = build();
      } catch {
        this.compiled = null; // no WebAssembly SIMD in this runtime
        if (this.options.relaxedSimd) {
          try {
            setFlagsFromString('--experimental-wasm-relaxed-simd');
            this.compiled = build();
          } catch {
            this.compiled = null; // nor relaxed SIMD
          }
        }
      }
    }
    return this.compiled;
  }

  private instantiate(memory: WasmMemory): T | null {
    const compiled = this.compile();
    if (compiled === null) return null;
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    try {
      return new (webAssembly().Instance)(shared ? compiled.shared : compiled.plain, { env: { memory } }).exports as T;
    } catch {
      return null;
    }
  }

  /** Whether the module runs here. */
  available(): boolean {
    return this.compile() !== null;
  }

  /** The module compiled for a shared memory (to instantiate in another thread), or null. */
  sharedModule(): object | null {
    return this.compile()?.shared ?? null;
  }

  /** The instance on a memory of its own. */
  ownInstance(): { kernels: T; memory: WasmMemory } | null {
    if (this.own === undefined) {
      const memory = this.compile() === null ? null : new (webAssembly().Memory)({ initial: 1 });
      const kernels = memory === null ? null : this.instantiate(memory);
      this.own = kernels === null || memory === null ? null : { kernels, memory };
    }
    return this.own;
  }

  /** The instance on the backend heap, or null without one. */
  heapKernels(): T | null {
    if (heap === undefined) return null;
    // Instantiated once per heap (null kernels: it failed there, do not retry on every call).
    if (this.heapInstance?.memory !== heap.backend.memory) {
      this.heapInstance = { kernels: this.instantiate(heap.backend.memory), memory: heap.backend.memory };
    }
    return this.heapInstance.kernels;
  }
}

/**
 * The arrays of one kernel call, placed for a module: in place on the backend heap when they all
 * live there, else copied into the module's own memory. Usage: open with the inputs, outputs and
 * scratch sizes, fill scratch through f32/f64/i32 views, call kernels with the pointers, close
 * (which copies the outputs out when they were copied in).
 */
export class Workspace<T> {
  private constructor(
    readonly kernels: T,
    /** Whether the arrays are worked on in place on the backend heap (where the helper thread can help). */
    readonly onHeap: boolean,
    private readonly memory: WasmMemory,
    /** Pointers of the inputs, outputs and scratch blocks, in the order given. */
    readonly inputs: number[],
    readonly outputs: number[],
    readonly scratch: number[],
    private readonly copyOut: Array<[number, Float32Array]>,
  ) {}

  /** Null where the module does not run or its memory cannot grow enough. */
  static open<T>(module: SimdModule<T>, inputs: Float32Array[], outputs: Float32Array[], scratchBytes: number[]): Workspace<T> | null {
    const aligned = (bytes: number) => Math.ceil(bytes / 16) * 16;
    const scratchTotal = scratchBytes.reduce((a, b) => a + aligned(b), 0);
    const onHeap = heap !== undefined && scratchTotal <= SCRATCH_BYTES && onBackendHeap([...inputs, ...outputs]);
    const heapKernels = onHeap ? module.heapKernels() : null;
    if (heapKernels !== null && heap !== undefined) {
      let at = heap.scratch;
      const scratch = scratchBytes.map((b) => ((at += aligned(b)), at - aligned(b)));
      return new Workspace(
        heapKernels,
        true,
        heap.backend.memory,
        inputs.map((a) => a.byteOffset),
        outputs.map((a) => a.byteOffset),
        scratch,
        [],
      );
    }
    const own = module.ownInstance();
    if (own === null) return null;
    let end = 0;
    const place = (bytes: number) => ((end += aligned(bytes)), end - aligned(bytes));
    const pIn = inputs.map((a) => place(a.byteLength));
    const pOut = outputs.map((a) => place(a.byteLength));
    const scratch = scratchBytes.map(place);
    const missing = end - own.memory.buffer.byteLength;
    if (missing > 0) {
      try {
        own.memory.grow(Math.ceil(missing / 65536));
      } catch {
        return null; // past the 4 GiB of a 32-bit WebAssembly memory
      }
    }
    inputs.forEach((a, i) => new Float32Array(own.memory.buffer, pIn[i], a.length).set(a));
    return new Workspace(
      own.kernels,
      false,
      own.memory,
      pIn,
      pOut,
      scratch,
      outputs.map((a, i) => [pOut[i], a]),
    );
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  f64(at: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }

  /** Copies the outputs out of the module's own memory (nothing to do in place). */
  close(): void {
    for (const [at, out] of this.copyOut) out.set(this.f32(at, out.length));
  }
}
