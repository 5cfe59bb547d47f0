import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { cacheKey } from '../src/report/build';
import {
  overrideRuntimeOptions,
  parseRuntimeOptions,
  RUNTIME_OPTION_VARIABLES,
  RuntimeOptionError,
  runtimeOptions,
  runtimeOptionsEnv,
} from '../src/lib/runtime-options';
import { tempDir } from './helpers';

describe('runtime options (DIFFUSION_*)', () => {
  it('default to automatic choices with every kernel on', () => {
    assert.deepEqual(parseRuntimeOptions({ PATH: '/bin' }), {
      backend: 'auto',
      wasmThreads: null,
      trainWorkers: null,
      sampleWorkers: null,
      simdKernels: true,
      simdHelper: true,
      winograd: true,
      fusedKernels: true,
    });
  });

  it('reads each variable, ignoring blanks and the variables that are not options', () => {
    const options = parseRuntimeOptions({
      DIFFUSION_BACKEND: 'cpu',
      DIFFUSION_WASM_THREADS: '2',
      DIFFUSION_TRAIN_WORKERS: '0',
      DIFFUSION_SAMPLE_WORKERS: ' ',
      DIFFUSION_SIMD_KERNELS: '0',
      DIFFUSION_SIMD_HELPER: '1',
      DIFFUSION_SIMD_WINOGRAD: '0',
      DIFFUSION_FUSED_KERNELS: '0',
      DIFFUSION_OUTPUTS: '/tmp/x',
      DIFFUSION_DATA_CACHE: '/tmp/y',
    });
    assert.deepEqual(options, {
      backend: 'cpu',
      wasmThreads: 2,
      trainWorkers: 0,
      sampleWorkers: null,
      simdKernels: false,
      simdHelper: true,
      winograd: false,
      fusedKernels: false,
    });
    // What worker threads get reads back as the same options.
    assert.deepEqual(parseRuntimeOptions(runtimeOptionsEnv(options)), options);
  });

  it('a bad value or an unknown DIFFUSION_ name is an error naming it and what is allowed', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ DIFFUSION_BACKEND: 'gpu' }, /DIFFUSION_BACKEND=gpu is not a backend\. Use one of: tensorflow-gpu, tensorflow, wasm, cpu, auto/],
      [{ DIFFUSION_WASM_THREADS: '9' }, /DIFFUSION_WASM_THREADS=9 is not a thread count\. Use a whole number from 1 to 8/],
      [{ DIFFUSION_TRAIN_WORKERS: '-1' }, /DIFFUSION_TRAIN_WORKERS=-1 is not a worker count\. Use a whole number from 0 to 16/],
      [{ DIFFUSION_SIMD_KERNELS: 'off' }, /DIFFUSION_SIMD_KERNELS=off is not a switch\. Use 1 \(on, the default\) or 0 \(off\)/],
      [{ DIFFUSION_BAKEND: 'wasm' }, /DIFFUSION_BAKEND is not a setting of this library\. Settings: DIFFUSION_BACKEND, /],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => parseRuntimeOptions(env),
        (e: Error) => e instanceof RuntimeOptionError && message.test(e.message),
        JSON.stringify(env),
      );
    }
  });

  it('an override lasts until it is restored', () => {
    const before = runtimeOptions();
    const restore = overrideRuntimeOptions({ winograd: !before.winograd });
    assert.equal(runtimeOptions().winograd, !before.winograd);
    restore();
    assert.deepEqual(runtimeOptions(), before);
    assert.equal(RUNTIME_OPTION_VARIABLES.winograd, 'DIFFUSION_SIMD_WINOGRAD');
  });

  it('are part of the report cache key: another setting runs the notebooks again', () => {
    const file = path.join(tempDir('runtime-key-'), 'n.ipynb');
    fs.writeFileSync(file, '{}');
    const key = () => cacheKey(file, 'smoke', 0, 'code');
    const plain = key();
    const restore = overrideRuntimeOptions({ simdKernels: !runtimeOptions().simdKernels });
    try {
      assert.notEqual(key(), plain);
    } finally {
      restore();
    }
    assert.equal(key(), plain);
  });
});
