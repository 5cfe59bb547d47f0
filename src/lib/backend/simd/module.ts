// Loading the embedded WebAssembly SIMD modules (*.wat, assembled by `npm run build:wasm`) and
// placing arrays in their memory. Each module has its own memory: a kernel copies its inputs in,
// runs, and copies its result out (~0.1 ns per element).

import { setFlagsFromString } from 'v8';

// The project's TypeScript lib has no WebAssembly types (no DOM lib); the members used here:
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

/** Environment variable: 0 runs the JavaScript loops / the backend's own kernels instead (for comparisons). */
export const SIMD_KERNELS_ENV_VAR = 'DIFFUSION_SIMD_KERNELS';

/** Whether the SIMD kernels are switched on (they are unless DIFFUSION_SIMD_KERNELS=0). */
export function simdKernelsEnabled(): boolean {
  return process.env[SIMD_KERNELS_ENV_VAR] !== '0';
}

function instantiate<T>(bytes: Uint8Array): T {
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  return new wasm.Instance(new wasm.Module(bytes)).exports as T;
}

/**
 * A module instantiated once per thread (each worker thread loads these files anew), or null
 * where this runtime has no WebAssembly SIMD. With `relaxedSimd` the module uses relaxed SIMD
 * (fused multiply-add), on by default from Node 22 (V8 11.4); Node 20 has it behind a V8 flag,
 * which is switched on here when the module does not compile without it.
 */
export function lazyInstance<T extends { memory: WasmMemory }>(bytes: Uint8Array, options: { relaxedSimd?: boolean } = {}): () => T | null {
  let instance: T | null | undefined;
  return () => {
    if (instance === undefined) {
      try {
        instance = instantiate<T>(bytes);
      } catch {
        instance = null; // no WebAssembly SIMD in this runtime
        if (options.relaxedSimd) {
          try {
            setFlagsFromString('--experimental-wasm-relaxed-simd');
            instance = instantiate<T>(bytes);
          } catch {
            instance = null; // nor relaxed SIMD
          }
        }
      }
    }
    return instance;
  };
}

/**
 * Places arrays in a module's memory, each 16-byte aligned, growing it when needed. Growing
 * detaches earlier views, so all blocks are reserved first, then viewed.
 */
export class Layout {
  private end = 0;

  constructor(private readonly memory: WasmMemory) {}

  /** Reserves `bytes` and returns the block's offset. */
  reserve(bytes: number): number {
    const at = this.end;
    this.end += Math.ceil(bytes / 16) * 16;
    return at;
  }

  /** Grows the memory to hold every reserved block; false if it cannot grow that far. */
  commit(): boolean {
    const missing = this.end - this.memory.buffer.byteLength;
    if (missing <= 0) return true;
    try {
      this.memory.grow(Math.ceil(missing / 65536));
      return true;
    } catch {
      return false; // past the 4 GiB of a 32-bit WebAssembly memory
    }
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
}
