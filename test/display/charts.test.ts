import assert from 'node:assert/strict';
import { guidanceSweepSpec, lossCurveSpec } from '../../src/lib/display/charts';

describe('loss curve spec', () => {
  const points = [1, 2, 3].map((step) => ({ step, loss: 1 / step }));
  const yTitle = (spec: Record<string, unknown>): unknown => JSON.stringify(spec).match(/"title":"(loss[^"]*)"/)?.[1];

  it("names the y axis 'loss (MSE)', or what the caller says the loss is", () => {
    assert.equal(yTitle(lossCurveSpec([{ name: 'train loss', points }])), 'loss (MSE)');
    assert.equal(yTitle(lossCurveSpec([{ name: 'train loss', points }], { yTitle: 'loss (Min-SNR weighted MSE)' })), 'loss (Min-SNR weighted MSE)');
  });
});

describe('guidance sweep spec', () => {
  it('puts the scales in order, draws the floor, and names every number in its description', () => {
    const spec = guidanceSweepSpec(
      [
        { guidance: 5, frechet: 749.1, accuracy: 0.995 },
        { guidance: 1, frechet: 209.9, accuracy: 0.705 },
      ],
      { floor: 100.4 },
    );
    const values = (spec.data as { values: Array<{ guidance: number }> }).values;
    assert.deepEqual(
      values.map((v) => v.guidance),
      [1, 5],
    );
    assert.match(String(spec.description), /\(1, 5\).*\(210, 749; real digits 100\).*\(71%, 100%\)/);
    assert.ok(JSON.stringify(spec).includes('"floor":100.4'));
    assert.throws(() => guidanceSweepSpec([], { floor: 1 }), /at least one guidance scale/);
  });
});
