import assert from 'assert/strict';
import { cosineSchedule } from '../../src/lib/noise-schedules';
import { SDEDIT_I_STARTS, checkIStart } from '../../src/lib/pipelines/timesteps';
import { checkTimesteps, inferenceTimesteps, stridedTimesteps } from '../../src/lib/scheduler';

describe('strided timesteps', () => {
  it('are 990, 960, ..., 30, 0: 34 values', () => {
    const ts = stridedTimesteps();
    assert.equal(ts.length, 34);
    assert.deepEqual(ts.slice(0, 3), [990, 960, 930]);
    assert.deepEqual(ts.slice(-2), [30, 0]);
    for (let i = 1; i < ts.length; i++) assert.equal(ts[i - 1] - ts[i], 30);
  });

  it('put SPEC i_start values at t = 960, 900, 840, 780, 690, 390 and every 5th step of 1.4 at 690..90', () => {
    const ts = stridedTimesteps();
    assert.deepEqual(
      SDEDIT_I_STARTS.map((i) => ts[i]),
      [960, 900, 840, 780, 690, 390],
    );
    assert.deepEqual(
      [10, 15, 20, 25, 30].map((i) => ts[i]),
      [690, 540, 390, 240, 90],
    );
  });

  it('follow diffusers leading spacing for num_inference_steps', () => {
    assert.deepEqual(inferenceTimesteps(5), [800, 600, 400, 200, 0]);
    assert.equal(inferenceTimesteps(40)[0], 975);
    assert.equal(inferenceTimesteps(40).length, 40);
  });

  it('reject bad lists and i_start out of range with the valid range', () => {
    const s = cosineSchedule(1000);
    assert.throws(() => stridedTimesteps(1000, 30), /not a multiple of stride 30/);
    assert.throws(() => checkTimesteps([990, 990, 0], s), /decrease strictly/);
    assert.throws(() => checkTimesteps([1000, 0], s), /from 0 to 999/);
    const ts = stridedTimesteps();
    assert.throws(() => checkIStart(33, ts), /i_start 33 is out of range.*from 0 \(pure noise\) to 32/);
    assert.throws(() => checkIStart(-1, ts), /out of range/);
    assert.throws(() => checkIStart(2.5, ts), /out of range/);
    checkIStart(32, ts);
  });
});
