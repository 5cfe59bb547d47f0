import assert from 'node:assert/strict';
import { lossCurveSpec } from '../../src/lib/display/charts';

describe('loss curve spec', () => {
  const points = [1, 2, 3].map((step) => ({ step, loss: 1 / step }));
  const yTitle = (spec: Record<string, unknown>): unknown => JSON.stringify(spec).match(/"title":"(loss[^"]*)"/)?.[1];

  it("names the y axis 'loss (MSE)', or what the caller says the loss is", () => {
    assert.equal(yTitle(lossCurveSpec([{ name: 'train loss', points }])), 'loss (MSE)');
    assert.equal(yTitle(lossCurveSpec([{ name: 'train loss', points }], { yTitle: 'loss (Min-SNR weighted MSE)' })), 'loss (Min-SNR weighted MSE)');
  });
});
