import { strict as assert } from 'assert';
import { centerCropSquare, resize, toChannels, toModelInput } from '../../src/lib/images/pixels';
import { useDefaultBackend } from '../helpers';

describe('inputs/pixels', () => {
  before(useDefaultBackend);

  it('area-averages when shrinking: a 4x4 checkerboard of 2x2 blocks becomes its block means', () => {
    const data = Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
    const out = resize({ height: 4, width: 4, channels: 1, data }, 2, 2);
    assert.deepEqual([...out.data], [0, 1, 2, 3]);
    // A constant image stays constant in both directions.
    const flat = resize({ height: 3, width: 5, channels: 1, data: new Float32Array(15).fill(0.25) }, 7, 2);
    for (const v of flat.data) assert.ok(Math.abs(v - 0.25) < 1e-6);
  });

  it('interpolates bilinearly when enlarging, with pixel centres aligned', () => {
    const out = resize({ height: 1, width: 2, channels: 1, data: Float32Array.from([0, 1]) }, 1, 4);
    assert.deepEqual(
      [...out.data].map((v) => Number(v.toFixed(4))),
      [0, 0.25, 0.75, 1],
    );
  });

  it('centre-crops to a square and converts channels', () => {
    const wide = { height: 2, width: 4, channels: 1, data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]) };
    assert.deepEqual([...centerCropSquare(wide).data], [1, 2, 5, 6]);
    const rgb = toChannels({ height: 1, width: 1, channels: 1, data: Float32Array.from([0.5]) }, 3);
    assert.deepEqual([...rgb.data], [0.5, 0.5, 0.5]);
    const gray = toChannels({ height: 1, width: 1, channels: 3, data: Float32Array.from([1, 0, 0]) }, 1);
    assert.ok(Math.abs(gray.data[0] - 0.299) < 1e-6);
  });

  it('makes a model input [1, size, size, channels] in [-1, 1]', () => {
    const x = toModelInput({ height: 2, width: 2, channels: 1, data: Float32Array.from([0, 1, 1, 0]) }, 2, 3);
    assert.deepEqual(x.shape, [1, 2, 2, 3]);
    assert.deepEqual([...x.dataSync()], [-1, -1, -1, 1, 1, 1, 1, 1, 1, -1, -1, -1]);
    x.dispose();
  });
});
