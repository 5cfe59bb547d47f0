import assert from 'assert/strict';
import { cosineSchedule, ddpmSchedule, linearBetas } from '../src/lib/noise-schedules';

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.abs(b);

describe('noise-schedules', () => {
  it('Part B: 300 linear betas from 1e-4 to 0.02, alpha_bar = cumprod(1 - beta) with abar_0 = 1', () => {
    const s = ddpmSchedule(300);
    assert.equal(s.betas.length, 301);
    assert.ok(close(s.betas[1], 1e-4, 1e-6));
    assert.ok(close(s.betas[300], 0.02, 1e-6));
    assert.ok(close(s.betas[150] - s.betas[149], (0.02 - 1e-4) / 299, 1e-3));
    assert.equal(s.alphasCumprod[0], 1);
    let prod = 1;
    for (let t = 1; t <= 300; t++) prod *= 1 - s.betas[t];
    assert.ok(close(s.alphasCumprod[300], prod, 1e-4));
    for (let t = 1; t <= 300; t++) assert.ok(s.alphasCumprod[t] < s.alphasCumprod[t - 1]);
  });

  it('Part A: cosine schedule matches the reference values of SPEC', () => {
    const s = cosineSchedule(1000);
    const ref: Array<[number, number]> = [
      [0, 0.999959],
      [250, 0.84589],
      [500, 0.49228],
      [690, 0.21452],
      [750, 0.14318],
      [990, 1.967e-4],
      [999, 2.43e-9],
    ];
    for (const [t, v] of ref) assert.ok(close(s.alphasCumprod[t], v, 2e-3), `abar[${t}] = ${s.alphasCumprod[t]}, want ${v}`);
    assert.ok(Math.max(...s.betas) <= Math.fround(0.999));
  });

  it('rejects a non-integer number of steps', () => {
    assert.throws(() => linearBetas(0), /positive integer/);
    assert.throws(() => ddpmSchedule(2.5), /positive integer/);
  });
});
