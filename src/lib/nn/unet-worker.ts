// A worker thread that evaluates a copy of a UNet for UNetWorkers (unet-workers.ts): it builds the
// model from its config and the values it was sent, says it is ready, then serves calls for its
// life: the main thread writes the inputs into shared memory and posts a range of images; this
// thread computes their outputs into the shared output and says it is done. It waits in
// Atomics.wait between calls (no messages), so the main thread may block while it works.
import { MessagePort, workerData } from 'worker_threads';
import type { BackendChoice } from '../backend/select';
import type { UNet, UNetConfig } from './unet';
import { SharedLayout, sharedViews, STATE, WORKER_WORDS, WorkerState } from './unet-shared';

export interface UNetWorkerInit {
  config: UNetConfig;
  backend: BackendChoice;
  /** Every parameter and buffer of the model: name, shape, values. */
  values: Array<[string, number[], Float32Array]>;
  layout: SharedLayout;
  shared: SharedArrayBuffer;
  /** This worker's number: its control words are [index * WORKER_WORDS, ...). */
  index: number;
  /** Where a failure's message goes (read by the main thread with receiveMessageOnPort). */
  errors: MessagePort;
}

async function main(): Promise<void> {
  const init = workerData as UNetWorkerInit;
  const views = sharedViews(init.shared, init.layout);
  const word = (k: number) => init.index * WORKER_WORDS + k;
  const state = word(STATE.state);
  const fail = (error: unknown, outcome: WorkerState) => {
    init.errors.postMessage((error as Error).message ?? String(error));
    Atomics.store(views.control, state, outcome);
    Atomics.notify(views.control, state);
  };
  // The library is loaded here, not by imports, so that a failure to load it is reported too.
  let model: UNet;
  let tf: typeof import('../backend/tf').tf;
  try {
    ({ tf } = await import('../backend/tf'));
    const { initBackend } = await import('../backend/select');
    const { Rng } = await import('../random');
    const { UNet } = await import('./unet');
    await initBackend({ backend: init.backend, quiet: true });
    model = new UNet(init.config, new Rng(0));
    model.loadState(new Map(init.values.map(([name, shape, data]) => [name, { shape, data }])), "the main thread's model");
  } catch (error) {
    fail(error, WorkerState.StartFailed);
    return;
  }
  const { height, width, channels, numClasses } = init.layout;
  const pixels = height * width * channels;
  Atomics.store(views.control, state, WorkerState.Idle);
  Atomics.notify(views.control, state);
  for (;;) {
    // Wait while idle, and while the main thread has not yet taken the last result (Done).
    let now = Atomics.load(views.control, state);
    while (now === WorkerState.Idle || now === WorkerState.Done || now === WorkerState.Failed) {
      Atomics.wait(views.control, state, now);
      now = Atomics.load(views.control, state);
    }
    if (now !== WorkerState.Posted) return; // Stop
    try {
      const first = views.control[word(STATE.first)];
      const count = views.control[word(STATE.count)];
      const hasT = views.control[word(STATE.hasT)] === 1;
      const hasC = views.control[word(STATE.hasC)] === 1;
      const y = tf.tidy(() => {
        // slice(): tensors are made from ordinary arrays, not views of shared memory.
        const x = tf.tensor4d(views.x.slice(first * pixels, (first + count) * pixels), [count, height, width, channels]);
        const t = hasT ? tf.tensor2d(views.t.slice(first, first + count), [count, 1]) : undefined;
        const c = hasC ? tf.tensor2d(views.c.slice(first * numClasses, (first + count) * numClasses), [count, numClasses]) : undefined;
        return model.forward({ x, t, c });
      });
      views.out.set(y.dataSync() as Float32Array, first * pixels);
      y.dispose();
      Atomics.store(views.control, state, WorkerState.Done);
      Atomics.notify(views.control, state);
    } catch (error) {
      fail(error, WorkerState.Failed);
    }
  }
}

void main();
