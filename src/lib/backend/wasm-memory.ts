// The wasm backend's heap: its size, and a clear error when it is full.
//
// The heap of tfjs-backend-wasm grows on demand up to 4 GiB (wasm32) and never shrinks. When it
// cannot grow, the wasm malloc returns 0, and tfjs 4.22 does not check: it takes offset 0 as the
// tensor's memory and writes over the start of the heap, after which the process computes
// garbage or hangs. The guard wraps malloc so that a failed allocation throws instead.
import { tf } from './tf';
import type { BackendHeap, WasmMemory } from './simd/module';

/** The wasm32 address space, the most the heap can grow to. */
export const WASM_HEAP_MAX_BYTES = 4 * 1024 ** 3;

interface WasmModule {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: Uint8Array;
  /** The heap's WebAssembly.Memory: the threaded build's (shared) ... */
  wasmMemory?: WasmMemory;
  /** ... or the single-threaded build's, among its exports. */
  asm?: { memory?: WasmMemory };
  /** Set once the guard is installed. */
  diffusionHeapGuard?: boolean;
}

export class WasmHeapExhaustedError extends Error {}

function wasmModule(backend: tf.KernelBackend): WasmModule {
  const wasm = (backend as unknown as { wasm?: WasmModule }).wasm;
  if (wasm === undefined || typeof wasm._malloc !== 'function') {
    throw new Error('wasm-memory: the backend is not the tfjs wasm backend (no wasm module).');
  }
  return wasm;
}

/** Bytes the wasm heap holds now (it only grows; the peak of the process so far). */
export function wasmHeapBytes(backend: tf.KernelBackend = tf.backend()): number {
  return wasmModule(backend).HEAPU8.buffer.byteLength;
}

/**
 * Makes a failed allocation of the wasm backend throw WasmHeapExhaustedError, which says how
 * much was asked for and how to need less, instead of corrupting the heap. Idempotent.
 */
export function installWasmHeapGuard(backend: tf.KernelBackend = tf.backend()): void {
  const wasm = wasmModule(backend);
  if (wasm.diffusionHeapGuard) return;
  const malloc = wasm._malloc.bind(wasm);
  wasm._malloc = (bytes: number): number => {
    const ptr = malloc(bytes);
    if (ptr === 0 && bytes > 0) {
      const mb = (n: number) => `${Math.round(n / 1024 ** 2)} MB`;
      throw new WasmHeapExhaustedError(
        `The wasm heap is full: cannot allocate ${mb(bytes)} more (heap ${mb(wasmHeapBytes(backend))} of at most ` +
          `${mb(WASM_HEAP_MAX_BYTES)}). Peak memory grows with batch x hidden channels: pass a smaller ` +
          `--micro-batch (gradients are accumulated, the result is the same), a smaller batch or D, ` +
          `or install @tensorflow/tfjs-node, which has no such cap.`,
      );
    }
    return ptr;
  };
  wasm.diffusionHeapGuard = true;
}

/**
 * The wasm backend's heap as the SIMD kernels use it (simd/module.ts): its memory and its
 * allocator (guarded by installWasmHeapGuard when installed first).
 */
export function wasmBackendHeap(backend: tf.KernelBackend = tf.backend()): BackendHeap {
  const wasm = wasmModule(backend);
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  if (memory === undefined || memory.buffer !== wasm.HEAPU8.buffer) {
    throw new Error('wasm-memory: cannot find the WebAssembly.Memory of the wasm backend (tfjs-backend-wasm 4.22 expected).');
  }
  return {
    memory,
    malloc: (bytes) => wasm._malloc(bytes),
    free: (pointer) => wasm._free(pointer),
  };
}
