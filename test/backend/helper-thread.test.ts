import assert from 'assert/strict';
import { initBackend } from '../../src/lib/backend/select';
import { CONTROL_WORDS, HelperThread } from '../../src/lib/backend/simd/helper-thread';
import { CONV_KERNELS_WASM } from '../../src/lib/backend/simd/conv-kernels-wasm';
import { backendHeap } from '../../src/lib/backend/simd/module';
import { simdKernelsActive } from '../../src/lib/backend/simd/channel-kernels';

describe('SIMD helper thread', function () {
  this.timeout(30000);

  it('gives up on a worker that cannot start: wait() says so within seconds and the helper marks itself unusable (runSplit then does the work itself)', async function () {
    await initBackend({ quiet: true });
    const heap = backendHeap();
    if (!heap || !(heap.memory.buffer instanceof SharedArrayBuffer)) this.skip(); // one-thread backend: no helper
    assert.ok(simdKernelsActive()); // compiles the modules (switching relaxed SIMD on where needed)
    // A module assembled for an unshared memory cannot be instantiated on the shared heap.
    const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }).WebAssembly;
    const control = heap!.malloc(CONTROL_WORDS * 4);
    try {
      const thread = HelperThread.start({ conv: new wasm.Module(CONV_KERNELS_WASM.plain) }, heap!.memory, control);
      if (thread === null) this.skip(); // a single core
      thread!.post('conv.pad_input', new Array<number>(12).fill(0));
      const started = Date.now();
      assert.equal(thread!.wait(), false);
      assert.equal(thread!.usable, false);
      assert.ok(Date.now() - started < 10000, 'it should notice the failed start within seconds');
    } finally {
      heap!.free(control);
    }
  });
});
