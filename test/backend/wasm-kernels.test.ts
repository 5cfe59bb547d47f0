import assert from 'assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/lib/backend/tf';
import { backendInfo, initBackend, resetBackendForTests } from '../../src/lib/backend/select';
import { conv2DBackpropFilterWasmConfig, conv2DBackpropInputWasmConfig } from '../../src/lib/backend/wasm-kernels';
import * as os from 'os';
import { interleavePhasesAvailable, simdConvApplies } from '../../src/lib/backend/simd/conv-kernels';
import { WINOGRAD_ENV_VAR, winogradApplies, winogradFilterGradApplies } from '../../src/lib/backend/simd/winograd';
import { helperThread } from '../../src/lib/backend/simd/module';
import { relativeError, uniformValues } from '../helpers';
import { overrideRuntimeOptions } from '../../src/lib/runtime-options';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    uniformValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

async function use(backend: 'cpu' | 'wasm'): Promise<void> {
  assert.ok(await tf.setBackend(backend));
  if (backend === 'cpu') {
    // Silence the cpu backend's multi-line tfjs-node advert in the test output.
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  }
}

type Kernel = 'Conv2DBackpropFilter' | 'Conv2DBackpropInput';

/** The gradient computed by `kernel` of `backend` for random x (or filter) and dy, read back. */
async function gradient(
  kernel: Kernel,
  backend: 'cpu' | 'wasm',
  xShape: Shape4,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: Pad,
): Promise<{ shape: number[]; data: Float32Array }> {
  await use(backend);
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad);
  const dy = randomTensor(info.outShape, 2);
  const attrs = { strides, pad, dataFormat: 'NHWC' };
  let out: tf.Tensor;
  let other: tf.Tensor;
  if (kernel === 'Conv2DBackpropFilter') {
    other = randomTensor(xShape, 1);
    out = tf.engine().runKernel<tf.Tensor>(kernel, { x: other, dy }, { ...attrs, filterShape });
  } else {
    other = randomTensor(filterShape, 3);
    out = tf.engine().runKernel<tf.Tensor>(kernel, { dy, filter: other }, { ...attrs, inputShape: xShape });
  }
  const result = { shape: out.shape, data: out.dataSync() as Float32Array };
  tf.dispose([other, dy, out]);
  return result;
}

describe('wasm convolution gradient kernels', () => {
  before(async () => {
    resetBackendForTests();
    delete process.env.DIFFUSION_BACKEND;
    await initBackend({ quiet: true });
  });

  after(async () => {
    await use('wasm');
  });

  it('are registered for wasm by initBackend', () => {
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc, conv2DBackpropFilterWasmConfig.kernelFunc);
    assert.equal(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc, conv2DBackpropInputWasmConfig.kernelFunc);
  });

  const cases: Array<{ name: string; x: Shape4; filter: Shape4; strides: number | [number, number]; pad: Pad }> = [
    { name: "k=3 s=1 'same'", x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
    {
      name: 'k=3 s=2 explicit pad 1, H=28',
      x: [2, 28, 28, 2],
      filter: [3, 3, 2, 3],
      strides: 2,
      pad: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    },
    {
      name: 'k=3 s=2 explicit pad 1, H=14',
      x: [2, 14, 14, 3],
      filter: [3, 3, 3, 4],
      strides: 2,
      pad: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    },
    { name: 'k=4 s=2 pad 1', x: [2, 8, 8, 3], filter: [4, 4, 3, 2], strides: 2, pad: 1 },
    { name: 'k=1', x: [2, 5, 5, 4], filter: [1, 1, 4, 3], strides: 1, pad: 'valid' },
    { name: "k=3 'valid' s=2 (last row unreached)", x: [2, 8, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'valid' },
    { name: "odd sizes, 'same' s=2", x: [1, 9, 7, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
    { name: 'odd sizes, k=4 s=2 pad 1', x: [1, 7, 9, 2], filter: [4, 4, 2, 3], strides: 2, pad: 1 },
    { name: 'non-square kernel and strides', x: [2, 9, 10, 2], filter: [3, 2, 2, 3], strides: [2, 3], pad: 'same' },
    {
      name: 'asymmetric explicit padding',
      x: [2, 6, 7, 2],
      filter: [3, 3, 2, 2],
      strides: 1,
      pad: [
        [0, 0],
        [0, 2],
        [1, 0],
        [0, 0],
      ],
    },
    {
      name: 'padding wider than the kernel',
      x: [1, 5, 6, 2],
      filter: [2, 2, 2, 3],
      strides: 2,
      pad: [
        [0, 0],
        [3, 2],
        [2, 3],
        [0, 0],
      ],
    },
    { name: 'batch 5', x: [5, 6, 6, 2], filter: [3, 3, 2, 3], strides: 2, pad: 1 },
    { name: 'batch 1', x: [1, 6, 6, 2], filter: [3, 3, 2, 3], strides: 1, pad: 'same' },
  ];

  for (const kernel of ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const) {
    for (const c of cases) {
      it(`${kernel} matches the cpu backend: ${c.name}`, async () => {
        const expected = await gradient(kernel, 'cpu', c.x, c.filter, c.strides, c.pad);
        const actual = await gradient(kernel, 'wasm', c.x, c.filter, c.strides, c.pad);
        const shape = kernel === 'Conv2DBackpropFilter' ? c.filter : c.x;
        assert.deepEqual(expected.shape, shape);
        assert.deepEqual(actual.shape, shape);
        const error = relativeError(actual.data, expected.data);
        assert.ok(error < 1e-4, `relative error ${error}`);
      });
    }
  }

  // Strided input gradients put their phases in place with the SIMD module's interleave_phases;
  // with the SIMD kernels off, wasm's Reshape, Transpose and Slice do it.
  for (const c of cases.filter((k) => k.strides !== 1)) {
    it(`Conv2DBackpropInput with the SIMD kernels off matches the cpu backend: ${c.name}`, async () => {
      const expected = await gradient('Conv2DBackpropInput', 'cpu', c.x, c.filter, c.strides, c.pad);
      const restore = overrideRuntimeOptions({ simdKernels: false });
      try {
        assert.equal(interleavePhasesAvailable(), false);
        const actual = await gradient('Conv2DBackpropInput', 'wasm', c.x, c.filter, c.strides, c.pad);
        assert.deepEqual(actual.shape, c.x);
        const error = relativeError(actual.data, expected.data);
        assert.ok(error < 1e-4, `relative error ${error}`);
      } finally {
        restore();
      }
    });
  }

  // Output channels a multiple of 8 take the WebAssembly SIMD weight gradient (simd/conv-kernels.wat);
  // 5 input channels cover its blocks of 4 and the single remaining channel.
  for (const c of [
    ...cases,
    { name: 'k=7 s=7 (the 1x1 -> 7x7 up-projection)', x: [2, 7, 7, 3] as Shape4, filter: [7, 7, 3, 8] as Shape4, strides: 7, pad: 'valid' as Pad },
  ]) {
    const filter: Shape4 = [c.filter[0], c.filter[1], 5, 16];
    const x: Shape4 = [c.x[0], c.x[1], c.x[2], 5];
    for (const simd of ['1', '0']) {
      it(`Conv2DBackpropFilter, co 16, ${simd === '1' ? 'SIMD' : 'XNNPACK'} path, matches the cpu backend: ${c.name}`, async () => {
        const geometry = tf.backend_util.computeConv2DInfo(x, filter, c.strides, 1, c.pad);
        const expected = await gradient('Conv2DBackpropFilter', 'cpu', x, filter, c.strides, c.pad);
        const restore = overrideRuntimeOptions({ simdKernels: simd === '1' });
        try {
          assert.equal(simdConvApplies({ ...geometry, ...geometry.padInfo }), simd === '1');
          const actual = await gradient('Conv2DBackpropFilter', 'wasm', x, filter, c.strides, c.pad);
          assert.deepEqual(actual.shape, filter);
          const error = relativeError(actual.data, expected.data);
          assert.ok(error < 1e-4, `relative error ${error}`);
        } finally {
          restore();
        }
      });
    }
  }

  // Conv2D and FusedConv2D (bias, no activation) take the SIMD kernel when the output channels are
  // a multiple of 8; so do the input gradients, which are Conv2D calls.
  for (const c of [...cases, { name: 'k=7 s=7 valid', x: [2, 7, 7, 3] as Shape4, filter: [7, 7, 3, 8] as Shape4, strides: 7, pad: 'valid' as Pad }]) {
    const filterShape: Shape4 = [c.filter[0], c.filter[1], 5, 16];
    const xShape: Shape4 = [c.x[0], c.x[1], c.x[2], 5];
    it(`Conv2D, FusedConv2D and Conv2DBackpropInput, 5 -> 16 channels, SIMD path, match the cpu backend: ${c.name}`, async () => {
      const run = async (backend: 'cpu' | 'wasm') => {
        await use(backend);
        const x = randomTensor(xShape, 31);
        const filter = randomTensor(filterShape, 32);
        const bias = randomTensor([16], 33);
        const pad = c.pad as 'same';
        const plain = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.strides, pad);
        const fused = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: c.strides, pad });
        // The input gradient of a conv from 16 channels to 5 runs a Conv2D with 16 output channels.
        const backXShape: Shape4 = [c.x[0], c.x[1], c.x[2], 16];
        const backFilterShape: Shape4 = [c.filter[0], c.filter[1], 16, 5];
        const dy = randomTensor(tf.backend_util.computeConv2DInfo(backXShape, backFilterShape, c.strides, 1, c.pad).outShape, 34);
        const backFilter = randomTensor(backFilterShape, 35);
        const back = tf.engine().runKernel<tf.Tensor>(
          'Conv2DBackpropInput',
          { dy, filter: backFilter },
          {
            strides: c.strides,
            pad: c.pad,
            dataFormat: 'NHWC',
            inputShape: backXShape,
          },
        );
        const out = [plain, fused, back].map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
        tf.dispose([x, filter, bias, plain, fused, dy, backFilter, back]);
        return out;
      };
      const expected = await run('cpu');
      const geometry = tf.backend_util.computeConv2DInfo(xShape, filterShape, c.strides, 1, c.pad);
      assert.ok(simdConvApplies({ ...geometry, ...geometry.padInfo }));
      const actual = await run('wasm');
      for (const [i, name] of ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput'].entries()) {
        assert.deepEqual(actual[i].shape, expected[i].shape, name);
        const error = relativeError(actual[i].data, expected[i].data);
        assert.ok(error < 1e-4, `${name}: relative error ${error}`);
      }
    });
  }

  // 3x3 and 2x2 stride-1 convs with input channels a multiple of 4 (and output channels of 8) take
  // Winograd's F(2x2, 3x3) and F(3x3, 2x2) (simd/winograd-kernels.wat): sizes that are not
  // multiples of the tile (odd, 1x1), every padding, several chunks of tiles (batch 5 of 9x9).
  const winogradCases: Array<{ name: string; x: Shape4; k: number; ci: number; co: number; pad: Pad }> = [
    { name: "'same', 8x8", x: [2, 8, 8, 4], k: 3, ci: 4, co: 8, pad: 'same' },
    { name: "'same', odd 7x9", x: [1, 7, 9, 8], k: 3, ci: 8, co: 16, pad: 'same' },
    { name: "'valid', 9x7, 12 channels", x: [3, 9, 7, 12], k: 3, ci: 12, co: 8, pad: 'valid' },
    {
      name: 'asymmetric padding',
      x: [2, 5, 6, 4],
      k: 3,
      ci: 4,
      co: 8,
      pad: [
        [0, 0],
        [0, 2],
        [1, 0],
        [0, 0],
      ],
    },
    { name: "1x1 image, 'same'", x: [1, 1, 1, 4], k: 3, ci: 4, co: 8, pad: 'same' },
    { name: 'batch 5 of 9x9 (tiles across chunks and images)', x: [5, 9, 9, 8], k: 3, ci: 8, co: 24, pad: 'same' },
    { name: "2x2 'valid', 8x8", x: [2, 8, 8, 4], k: 2, ci: 4, co: 8, pad: 'valid' },
    { name: "2x2 'same', odd 7x10", x: [1, 7, 10, 8], k: 2, ci: 8, co: 16, pad: 'same' },
    {
      name: '2x2 asymmetric padding',
      x: [2, 5, 6, 4],
      k: 2,
      ci: 4,
      co: 8,
      pad: [
        [0, 0],
        [2, 0],
        [0, 1],
        [0, 0],
      ],
    },
    { name: '2x2, batch 5 of 11x11', x: [5, 11, 11, 12], k: 2, ci: 12, co: 8, pad: 'valid' },
  ];
  for (const c of winogradCases) {
    it(`Conv2D, FusedConv2D and the gradients by Winograd match the cpu backend: ${c.name}`, async () => {
      const filterShape: Shape4 = [c.k, c.k, c.ci, c.co];
      const run = async (backend: 'cpu' | 'wasm') => {
        await use(backend);
        const x = randomTensor(c.x, 61) as tf.Tensor4D;
        const filter = randomTensor(filterShape, 62) as tf.Tensor4D;
        const bias = randomTensor([c.co], 63);
        const pad = c.pad as 'same';
        const out = [tf.conv2d(x, filter, 1, pad), tf.fused.conv2d({ x, filter, bias, strides: 1, pad })];
        const result = out.map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
        tf.dispose([x, filter, bias, ...out]);
        return result;
      };
      const expected = await run('cpu');
      const geometry = tf.backend_util.computeConv2DInfo(c.x, filterShape, 1, 1, c.pad);
      assert.ok(winogradApplies({ ...geometry, ...geometry.padInfo }));
      const actual = await run('wasm');
      for (const [i, name] of ['Conv2D', 'FusedConv2D'].entries()) {
        assert.deepEqual(actual[i].shape, expected[i].shape, name);
        const error = relativeError(actual[i].data, expected[i].data);
        assert.ok(error < 1e-4, `${name}: relative error ${error}`);
      }
      // The gradients: the filter's by Winograd too (3x3), the input's a stride-1 conv of dy.
      for (const kernel of c.k === 3 ? (['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const) : []) {
        const want = await gradient(kernel, 'cpu', c.x, filterShape, 1, c.pad);
        const got = await gradient(kernel, 'wasm', c.x, filterShape, 1, c.pad);
        assert.deepEqual(got.shape, want.shape, kernel);
        const error = relativeError(got.data, want.data);
        assert.ok(error < 1e-4, `${kernel}: relative error ${error}`);
      }
    });
  }

  it('Winograd applies only to 3x3 and 2x2 stride-1 convs with channels in 4s and 8s, and can be switched off', () => {
    const geometry = (x: Shape4, filter: Shape4, strides: number) => {
      const info = tf.backend_util.computeConv2DInfo(x, filter, strides, 1, 'same');
      return { ...info, ...info.padInfo };
    };
    assert.ok(winogradApplies(geometry([1, 8, 8, 4], [3, 3, 4, 8], 1)));
    assert.ok(winogradFilterGradApplies(geometry([1, 8, 8, 4], [3, 3, 4, 8], 1)));
    assert.ok(winogradApplies(geometry([1, 8, 8, 4], [2, 2, 4, 8], 1)));
    assert.ok(!winogradFilterGradApplies(geometry([1, 8, 8, 4], [2, 2, 4, 8], 1)), 'no 2x2 weight gradient');
    assert.ok(!winogradApplies(geometry([1, 8, 8, 4], [3, 3, 4, 8], 2)), 'stride 2');
    assert.ok(!winogradApplies(geometry([1, 8, 8, 5], [3, 3, 5, 8], 1)), '5 input channels');
    assert.ok(!winogradApplies(geometry([1, 8, 8, 4], [3, 3, 4, 12], 1)), '12 output channels');
    assert.ok(!winogradApplies(geometry([1, 8, 8, 4], [4, 4, 4, 8], 1)), '4x4');
    assert.ok(!winogradApplies(geometry([1, 8, 8, 4], [3, 2, 4, 8], 1)), '3x2');
    const restore = overrideRuntimeOptions({ winograd: false });
    try {
      assert.ok(!winogradApplies(geometry([1, 8, 8, 4], [3, 3, 4, 8], 1)), `${WINOGRAD_ENV_VAR}=0`);
    } finally {
      restore();
    }
  });

  // The UNet's strided layers: the transposed 4x4 stride-2 conv (UpConv) and the input gradient of
  // the 3x3 stride-2 conv (DownConv) are 2x2 phase convs, which take F(3x3, 2x2).
  for (const c of [
    {
      name: 'transposed 4x4 stride 2 (UpConv), 7 -> 14',
      dy: [2, 7, 7, 16] as Shape4,
      filter: [4, 4, 8, 16] as Shape4,
      x: [2, 14, 14, 8] as Shape4,
      strides: 2,
      pad: 1 as Pad,
    },
    {
      name: '3x3 stride 2 pad 1 (DownConv), 14 -> 7',
      dy: [2, 7, 7, 8] as Shape4,
      filter: [3, 3, 8, 8] as Shape4,
      x: [2, 14, 14, 8] as Shape4,
      strides: 2,
      pad: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ] as Pad,
    },
  ]) {
    it(`Conv2DBackpropInput through the 2x2 Winograd phase conv matches the cpu backend: ${c.name}`, async () => {
      const run = async (backend: 'cpu' | 'wasm') => {
        await use(backend);
        const dy = randomTensor(c.dy, 71);
        const filter = randomTensor(c.filter, 72);
        const out = tf.engine().runKernel<tf.Tensor>(
          'Conv2DBackpropInput',
          { dy, filter },
          {
            strides: c.strides,
            pad: c.pad,
            dataFormat: 'NHWC',
            inputShape: c.x,
          },
        );
        const result = { shape: out.shape, data: out.dataSync() as Float32Array };
        tf.dispose([dy, filter, out]);
        return result;
      };
      const expected = await run('cpu');
      const actual = await run('wasm');
      assert.ok(interleavePhasesAvailable(), 'the phases are put in place by interleave_phases');
      assert.deepEqual(actual.shape, c.x);
      const error = relativeError(actual.data, expected.data);
      assert.ok(error < 1e-4, `relative error ${error}`);
    });
  }

  it('Conv2D on two threads (a helper thread on the shared heap) gives the same bits as on one', async function () {
    await use('wasm');
    if (os.availableParallelism() < 2 || backendInfo().threads < 2) this.skip(); // nothing to compare on one core
    assert.ok(helperThread() !== null, 'the two-thread backend should start the helper thread');
    const x = randomTensor([5, 9, 9, 8], 41) as tf.Tensor4D;
    const filter = randomTensor([3, 3, 8, 16], 42) as tf.Tensor4D;
    const filter2 = randomTensor([2, 2, 8, 16], 43) as tf.Tensor4D;
    const run = (helper: string) => {
      const restore = overrideRuntimeOptions({ simdHelper: helper === '1' });
      try {
        // the direct conv (stride 2) and Winograd's two (tiles split between the threads)
        return tf.tidy(() =>
          [tf.conv2d(x, filter, 2, 'same'), tf.conv2d(x, filter, 1, 'same'), tf.conv2d(x, filter2, 1, 'valid')].map((t) => t.dataSync() as Float32Array),
        );
      } finally {
        restore();
      }
    };
    assert.deepEqual(run('1'), run('0'));
    tf.dispose([x, filter, filter2]);
  });

  it('GELU and the BatchNorm affine split over the helper thread give the same bits as on one thread', async function () {
    await use('wasm');
    if (helperThread() === null) this.skip(); // one core, or a one-thread backend
    const x = randomTensor([4, 64, 64, 16], 43); // 262,144 values: enough to be split
    const scale = randomTensor([16], 44);
    const shift = randomTensor([16], 45);
    const run = (helper: string) => {
      const restore = overrideRuntimeOptions({ simdHelper: helper === '1' });
      try {
        return tf.tidy(() =>
          [
            tf.engine().runKernel<tf.Tensor>('DiffusionGelu', { x }, {}),
            tf.engine().runKernel<tf.Tensor>('DiffusionGeluGrad', { x, dy: tf.mul(x, scale) }, {}),
            tf.engine().runKernel<tf.Tensor>('DiffusionChannelAffine', { x, scale, shift }, {}),
          ].map((t) => t.dataSync() as Float32Array),
        );
      } finally {
        restore();
      }
    };
    const [split, single] = [run('1'), run('0')];
    const same = (a: Float32Array, b: Float32Array) =>
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    for (let i = 0; i < 3; i++) assert.ok(same(split[i], single[i]), `${['GELU', 'GELU gradient', 'affine'][i]} differs`);
    tf.dispose([x, scale, shift]);
  });

  // BatchMatMul as a 1x1 conv through the SIMD kernels (output columns a multiple of 8); other
  // cases (both transposed, a batch, 6 columns) go to the backend's own kernel.
  for (const [m, k, n, transposeA, transposeB, batch] of [
    [64, 32, 16, false, false, 1],
    [64, 32, 56, false, true, 1],
    [10, 7, 24, true, false, 1],
    [7, 5, 8, false, true, 1],
    [12, 9, 16, true, true, 1],
    [6, 4, 6, false, false, 1],
    [8, 4, 16, false, false, 3],
  ] as Array<[number, number, number, boolean, boolean, number]>) {
    it(`BatchMatMul ${batch > 1 ? `batch ${batch}, ` : ''}[${m} x ${k}] by [${k} x ${n}]${transposeA ? ', A transposed' : ''}${transposeB ? ', B transposed' : ''} matches the cpu backend`, async () => {
      const run = async (backend: 'cpu' | 'wasm') => {
        await use(backend);
        const lead = batch > 1 ? [batch] : [];
        const a = randomTensor([...lead, ...(transposeA ? [k, m] : [m, k])], 51) as tf.Tensor3D;
        const b = randomTensor([...lead, ...(transposeB ? [n, k] : [k, n])], 52) as tf.Tensor3D;
        const c = tf.matMul(a, b, transposeA, transposeB);
        const out = { shape: c.shape, data: c.dataSync() as Float32Array };
        tf.dispose([a, b, c]);
        return out;
      };
      const expected = await run('cpu');
      const actual = await run('wasm');
      assert.deepEqual(actual.shape, expected.shape);
      const error = relativeError(actual.data, expected.data);
      assert.ok(error < 1e-5, `relative error ${error}`);
    });
  }

  it('Conv2DBackpropInput still handles NCHW (through the original wasm kernel)', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await use(backend);
      const dy = randomTensor([2, 3, 4, 4], 7); // NCHW: 3 channels, 4x4
      const filter = randomTensor([3, 3, 2, 3], 8);
      const dx = tf.engine().runKernel<tf.Tensor>(
        'Conv2DBackpropInput',
        { dy, filter },
        {
          strides: 2,
          pad: 'same',
          dataFormat: 'NCHW',
          inputShape: [2, 2, 8, 8],
        },
      );
      const data = dx.dataSync() as Float32Array;
      tf.dispose([dy, filter, dx]);
      return data;
    };
    const expected = await run('cpu');
    const error = relativeError(await run('wasm'), expected);
    assert.ok(error < 1e-4, `relative error ${error}`);
  });

  it('free their intermediates', async () => {
    await use('wasm');
    const backend = tf.backend();
    const x = randomTensor([2, 9, 9, 2], 3);
    const filter = randomTensor([3, 3, 2, 3], 4);
    const dy = randomTensor([2, 4, 4, 3], 5);
    const attrs = { strides: 2, pad: 'valid', dataFormat: 'NHWC' };
    const before = backend.numDataIds();
    const dW = tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, 2, 3] });
    assert.equal(backend.numDataIds(), before + 1); // only the result
    const dx = tf.engine().runKernel<tf.Tensor>('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: [2, 9, 9, 2] });
    assert.equal(backend.numDataIds(), before + 2);
    tf.dispose([x, filter, dy, dW, dx]);
    assert.equal(backend.numDataIds(), before - 3);
  });

  it('give fresh results when a new filter (or dy) of the same shape reuses freed memory', async () => {
    // The wasm Conv2D caches XNNPACK operators by filter id; a stale one would give the old result.
    await use('wasm');
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC' };
    const x = randomTensor([2, 8, 8, 2], 20);
    const base = randomTensor([3, 3, 2, 3], 21);
    const dyBase = randomTensor([2, 4, 4, 3], 22);
    const results = [1, 2, 3].map((scale) => {
      const filter = tf.mul(base, scale);
      const dy = tf.mul(dyBase, scale);
      const dx = tf.engine().runKernel<tf.Tensor>('Conv2DBackpropInput', { dy: dyBase, filter }, { ...attrs, inputShape: [2, 8, 8, 2] });
      const dW = tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, 2, 3] });
      const out = { dx: dx.dataSync() as Float32Array, dW: dW.dataSync() as Float32Array };
      tf.dispose([filter, dy, dx, dW]);
      return out;
    });
    for (const scale of [2, 3]) {
      const r = results[scale - 1];
      assert.ok(
        relativeError(
          r.dx,
          results[0].dx.map((v) => v * scale),
        ) < 1e-5,
      );
      assert.ok(
        relativeError(
          r.dW,
          results[0].dW.map((v) => v * scale),
        ) < 1e-5,
      );
    }
    tf.dispose([x, base, dyBase]);
  });

  it('rejects NCHW and dilations with a clear message', async () => {
    await use('wasm');
    const x = randomTensor([1, 5, 5, 2], 5);
    const dy = randomTensor([1, 5, 5, 2], 6);
    const run = (attrs: tf.NamedAttrMap) => () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', filterShape: [3, 3, 2, 2], ...attrs });
    assert.throws(run({ dataFormat: 'NCHW' }), /supports dataFormat 'NHWC' only/);
    assert.throws(run({ dataFormat: 'NHWC', dilations: 2 }), /dilations of 1 only/);
    tf.dispose([x, dy]);
  });

  it('gives the gradients of a small conv net that cpu gives', async () => {
    const pad1: Pad = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    const grads = async (backend: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
      await use(backend);
      const x = randomTensor([2, 6, 6, 2], 10);
      const w1 = randomTensor([3, 3, 2, 4], 11); // conv: 6x6 -> 3x3, stride 2, pad 1
      const b1 = randomTensor([4], 12);
      const w2 = randomTensor([3, 3, 4, 4], 13); // conv: 3x3 -> 3x3, 'same'
      const w3 = randomTensor([4, 4, 3, 4], 14); // transposed conv: 3x3 -> 6x6, k=4 s=2 pad 1
      const b3 = randomTensor([3], 15);
      const target = randomTensor([2, 6, 6, 3], 16);
      const loss = (xv: tf.Tensor, w1v: tf.Tensor, b1v: tf.Tensor, w2v: tf.Tensor, w3v: tf.Tensor, b3v: tf.Tensor) => {
        const h1 = tf.relu(tf.add(tf.conv2d(xv as tf.Tensor4D, w1v as tf.Tensor4D, 2, pad1), b1v));
        const h2 = tf.relu(tf.conv2d(h1 as tf.Tensor4D, w2v as tf.Tensor4D, 1, 'same'));
        const y = tf.add(tf.conv2dTranspose(h2 as tf.Tensor4D, w3v as tf.Tensor4D, [2, 6, 6, 3], 2, pad1), b3v);
        return tf.sum(tf.mul(y, target));
      };
      const all = tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)([x, w1, b1, w2, w3, b3]);
      const data = all.map((g) => g.dataSync() as Float32Array);
      tf.dispose([...all, x, w1, b1, w2, w3, b3, target]);
      return data;
    };
    const expected = await grads('cpu');
    const actual = await grads('wasm');
    const names = ['x', 'w1', 'b1', 'w2', 'w3', 'b3'];
    for (let i = 0; i < names.length; i++) {
      const error = relativeError(actual[i], expected[i]);
      assert.ok(error < 1e-4, `gradient of ${names[i]}: relative error ${error}`);
    }
  });
});
