import { registerFusedKernels } from './fused-kernels';
import { setBackendHeap } from './simd/module';
import { registerWasmChannelOps } from './wasm-channel-ops';
import { registerWasmKernels } from './wasm-kernels';
import { installWasmHeapGuard, wasmBackendHeap } from './wasm-memory';

/**
 * The project's kernels on top of tfjs's wasm backend, shared by Node (select.ts) and the site's
 * demo worker in a browser: register them before the backend starts, attach the heap after.
 */
export function registerProjectWasmKernels(): void {
  registerWasmKernels();
  registerWasmChannelOps();
  registerFusedKernels();
}

/** After the wasm backend started: our SIMD kernels work in place on its heap. */
export function attachWasmBackendHeap(): void {
  installWasmHeapGuard();
  setBackendHeap(wasmBackendHeap());
}
