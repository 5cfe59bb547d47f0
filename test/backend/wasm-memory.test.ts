import assert from 'assert/strict';
import { tf } from '../../src/lib/backend/tf';
import { initBackend } from '../../src/lib/backend/select';
import { installWasmHeapGuard, WASM_HEAP_MAX_BYTES, wasmHeapBytes, WasmHeapExhaustedError } from '../../src/lib/backend/wasm-memory';

describe('wasm heap guard', () => {
  before(async () => {
    await initBackend({ quiet: true });
    assert.ok(await tf.setBackend('wasm'));
  });

  it('reports the heap size, below the 4 GiB cap', () => {
    const bytes = wasmHeapBytes();
    assert.ok(bytes > 0 && bytes <= WASM_HEAP_MAX_BYTES);
  });

  it('is installed on the wasm backend by initBackend, and ordinary allocations still work', () => {
    const wasm = (tf.backend() as unknown as { wasm: { diffusionHeapGuard?: boolean; _malloc(n: number): number; _free(p: number): void } }).wasm;
    assert.equal(wasm.diffusionHeapGuard, true);
    const p = wasm._malloc(1024);
    assert.ok(p > 0);
    wasm._free(p);
    const t = tf.ones([8, 8]);
    assert.equal(tf.sum(t).dataSync()[0], 64);
    t.dispose();
  });

  it('turns a failed allocation (malloc returning 0) into an error that says what to do', () => {
    // A stand-in module whose heap is full: the real malloc returns 0 once the heap cannot grow
    // (checked by hand: 16 allocations of 256 MB), which tfjs would use as an offset.
    const heap = new Uint8Array(64);
    const wasm = { _malloc: (n: number) => (n > 32 ? 0 : 8), HEAPU8: heap };
    const backend = { wasm } as unknown as tf.KernelBackend;
    installWasmHeapGuard(backend);
    installWasmHeapGuard(backend); // idempotent
    assert.equal(wasm._malloc(16), 8);
    assert.equal(wasm._malloc(0), 8);
    assert.throws(
      () => wasm._malloc(100 * 1024 ** 2),
      (e: unknown) => e instanceof WasmHeapExhaustedError && /wasm heap is full: cannot allocate 100 MB/.test(e.message) && /--micro-batch/.test(e.message),
    );
  });
});
