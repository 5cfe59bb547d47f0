// A worker thread that computes the gradients of micro-batches for the trainer (data parallelism,
// see gradient-workers.ts). It holds a copy of the model: before every step it receives the
// current parameters, then returns, per micro-batch it was given, the loss, the flat gradient and
// the BatchNorm batch statistics. It never updates parameters itself.
import { parentPort, workerData } from 'worker_threads';
import { tf } from '../backend/tf';
import { BackendChoice, initBackend } from '../backend/select';
import { BatchStat } from '../nn/module';
import { TrainConfig } from './config';
import { BatchDraw } from './objectives';
import { createNetwork, networkLoss, scheduleFor } from './networks';

export interface WorkerInit {
  config: TrainConfig;
  backend: BackendChoice;
}

/** What the worker says once it is ready: its parameters, to check both sides build one model. */
export interface WorkerReady {
  type: 'ready';
  parameters: Array<[string, number[]]>;
}

export interface WorkerStepRequest {
  type: 'step';
  /** Every parameter, flattened in namedParameters() order. */
  params: Float32Array;
  parts: BatchDraw[];
  /** Gradient weight of each part (its share of the whole batch). */
  weights: number[];
}

export interface WorkerPartResult {
  loss: number;
  /** Gradients flattened in namedParameters() order. */
  grads: Float32Array;
  /** BatchNorm batch statistics in forward order, with the names of the running-statistics buffers. */
  stats: Array<{ meanBuffer: string; varianceBuffer: string; mean: Float32Array; variance: Float32Array; count: number }>;
}

export interface WorkerStepResult {
  type: 'result';
  parts: WorkerPartResult[];
  /** Tensors alive in the worker after the step (constant from step to step: no leaks). */
  tensors: number;
}

export interface WorkerFailure {
  type: 'error';
  message: string;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('gradient-worker.js runs as a worker thread of the trainer, not on its own.');
  const init = workerData as WorkerInit;
  await initBackend({ backend: init.backend, quiet: true });
  const model = createNetwork(init.config);
  const schedule = scheduleFor(init.config);
  const params = model.namedParameters();
  const vars = params.map(([, v]) => v);
  const bufferNames = new Map<tf.Variable, string>(model.namedBuffers().map(([name, v]) => [v, name]));

  const step = (req: WorkerStepRequest): WorkerStepResult => {
    let offset = 0;
    // In a tidy: assign() shares the new tensor's data, and the tensor itself must be released,
    // else every step would keep a whole copy of the parameters alive.
    tf.tidy(() => {
      for (const [, v] of params) {
        v.assign(tf.tensor(req.params.subarray(offset, offset + v.size), v.shape, 'float32'));
        offset += v.size;
      }
    });
    const parts = req.parts.map((part, i): WorkerPartResult => {
      const stats: BatchStat[] = [];
      const { value, grads } = tf.variableGrads(
        () => tf.mul(networkLoss(model, init.config, schedule, part, { training: true, batchStats: stats }), req.weights[i]) as tf.Scalar,
        vars,
      );
      const loss = value.dataSync()[0];
      value.dispose();
      const flat = new Float32Array(offset);
      let at = 0;
      for (const v of vars) {
        const g = grads[v.name];
        flat.set(g.dataSync() as Float32Array, at);
        at += v.size;
        g.dispose();
      }
      const out = stats.map((s) => {
        const r = {
          meanBuffer: bufferNames.get(s.mean) ?? '',
          varianceBuffer: bufferNames.get(s.variance) ?? '',
          mean: s.batchMean.dataSync() as Float32Array,
          variance: s.batchVariance.dataSync() as Float32Array,
          count: s.count,
        };
        s.batchMean.dispose();
        s.batchVariance.dispose();
        return r;
      });
      return { loss, grads: flat, stats: out };
    });
    return { type: 'result', parts, tensors: tf.memory().numTensors };
  };

  port.on('message', (req: WorkerStepRequest) => {
    try {
      const result = step(req);
      port.postMessage(
        result,
        result.parts.map((p) => p.grads.buffer as ArrayBuffer),
      );
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).message } satisfies WorkerFailure);
    }
  });
  port.postMessage({ type: 'ready', parameters: params.map(([n, v]) => [n, v.shape]) } satisfies WorkerReady);
}

main().catch((err: Error) => {
  parentPort?.postMessage({ type: 'error', message: err.message } satisfies WorkerFailure);
});
