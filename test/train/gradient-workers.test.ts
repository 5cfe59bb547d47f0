import assert from 'assert/strict';
import * as path from 'path';
import { trainConfigFor } from '../../src/writeup/profiles';
import { TrainConfig } from '../../src/lib/train/config';
import { Rng } from '../../src/lib/random';
import { GradientWorkers, TRAIN_WORKERS_ENV_VAR, trainWorkerCount } from '../../src/lib/train/gradient-workers';
import { drawBatch } from '../../src/lib/train/objectives';
import { readLossLog, train } from '../../src/lib/train/trainer';
import { createModel } from '../../src/lib/train/networks';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';
import { overrideRuntimeOptions, parseRuntimeOptions } from '../../src/lib/runtime-options';

describe('gradient workers (data-parallel training)', function () {
  this.timeout(180000);
  before(useDefaultBackend);
  const data = syntheticSplits(40);

  async function run(config: TrainConfig, workers: number) {
    const dir = path.join(tempDir('workers'), 'run');
    const result = await train({ config, data, runDir: dir, progress: 'silent', workers });
    const state = result.model.stateEntries().map(([n, v]) => [n, Array.from(v.dataSync())] as const);
    return { losses: readLossLog(dir).map((r) => r.loss), state, meta: result.meta };
  }

  it('give the same losses, weights and BatchNorm statistics as training in the main thread', async () => {
    // 40 images, batch 16, micro-batch 5: batches of 16 = 5+5+5+1 and 8 = 5+3, so parts of
    // unequal size and, with 3 workers, an unequal number of parts per worker.
    const config = trainConfigFor('class', 'smoke', { hidden: 4, batchSize: 16, microBatch: 5, epochs: 2, trainLimit: 0, T: 20 });
    const inline = await run(config, 0);
    const parallel = await run(config, 3);
    assert.equal(inline.meta.workers, 0);
    assert.equal(parallel.meta.workers, 3);
    assert.equal(parallel.losses.length, 6);
    assert.deepEqual(parallel.losses, inline.losses);
    for (let i = 0; i < inline.state.length; i++) {
      assert.equal(parallel.state[i][0], inline.state[i][0]);
      assert.deepEqual(parallel.state[i][1], inline.state[i][1], `tensor ${inline.state[i][0]} differs`);
    }
  });

  it('keep no tensors from step to step (the parameters sent each step are released)', async () => {
    const config = trainConfigFor('class', 'smoke', { hidden: 4, batchSize: 8, T: 20 });
    const model = createModel(config);
    const params = model.namedParameters();
    const flat = new Float32Array(params.reduce((n, [, v]) => n + v.size, 0));
    const workers = await GradientWorkers.start(
      config,
      2,
      'wasm',
      params.map(([n, v]) => [n, v.shape]),
    );
    try {
      const counts: number[][] = [];
      for (let step = 0; step < 4; step++) {
        const draws = [0, 1].map((k) =>
          drawBatch(config, data.train.images.slice(k * 4 * 784, (k + 1) * 4 * 784), data.train.labels.slice(k * 4, (k + 1) * 4), new Rng(step * 2 + k)),
        );
        const grads = await workers.gradients(flat, draws, [0.5, 0.5]);
        assert.equal(grads.length, 2);
        counts.push([...workers.tensorCounts]);
      }
      assert.ok(counts[0].every((n) => n > 0));
      assert.deepEqual(counts[3], counts[1], `tensors per worker over 4 steps: ${JSON.stringify(counts)}`);
    } finally {
      await workers.close();
      model.dispose();
    }
  });

  it('default to one per core on wasm, never more than the micro-batches, none for native TensorFlow', () => {
    const restore = overrideRuntimeOptions({ trainWorkers: null });
    try {
      assert.equal(trainWorkerCount(1, 'wasm'), 0);
      assert.equal(trainWorkerCount(2, 'tensorflow'), 0);
      assert.equal(trainWorkerCount(3, 'wasm', 2), 2);
      assert.equal(trainWorkerCount(2, 'wasm', 8), 2);
      assert.equal(trainWorkerCount(4, 'wasm', 1), 0);
      overrideRuntimeOptions({ trainWorkers: 3 });
      assert.equal(trainWorkerCount(8, 'wasm'), 3);
      assert.equal(trainWorkerCount(8, 'wasm', 0), 0, 'the option wins over the variable');
      assert.throws(() => parseRuntimeOptions({ [TRAIN_WORKERS_ENV_VAR]: 'many' }), /DIFFUSION_TRAIN_WORKERS=many is not a worker count.*0 to 16/);
    } finally {
      restore();
    }
  });
});
