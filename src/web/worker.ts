// The demo page's Web Worker: TensorFlow.js (wasm backend by default), the models fetched from
// the site's demo/models/ folder on first use, and runDemoJob from the library, the same
// function the Node tests call.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgl';
import { attachWasmBackendHeap, registerProjectWasmKernels } from '../lib/backend/wasm-setup';
import { DemoJob, DemoModels, runDemoJob } from '../writeup/demo/jobs';
import { emojiStage1FromBytes, emojiStage2FromBytes } from '../lib/pretrained/emoji-model';
import { UNet } from '../lib/nn/unet';
import { readNetworkFile } from '../lib/train/network-file';
import type { BackendName, DemoModelIndex, DemoModelName, FromWorker, ToWorker } from './protocol';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

const models: DemoModels = {};
let index: DemoModelIndex | null = null;
let ready: Promise<void> | null = null;

async function start(backend: BackendName): Promise<void> {
  // The .wasm binaries sit beside this script (site/demo/).
  setWasmPaths(new URL('./', self.location.href).href);
  // The threaded wasm build needs cross-origin isolation, which static hosts do not give (and the
  // site does not ship it): the single-threaded SIMD build it is.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  // The library's own wasm kernels (SIMD convolutions, fused GELU and BatchNorm), as in Node.
  if (backend === 'wasm') registerProjectWasmKernels();
  if (!(await tf.setBackend(backend))) throw new Error(`The ${backend} backend could not start in this browser; try another one.`);
  await tf.ready();
  if (backend === 'wasm') attachWasmBackendHeap();
  const simd = backend === 'wasm' ? (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true : false;
  scope.postMessage({ type: 'ready', backend: tf.getBackend(), simd, threads: 1 });
}

const REBUILD = 'the site is incomplete or damaged: rebuild it with `npm run report` (or run the notebook that shares this model first), then reload the page';

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch ${url}: HTTP ${response.status}; ${REBUILD}.`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Reads a fetched model file, naming the file and the fix when its bytes are not a model. */
function readModel<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new Error(`models/${file} could not be read (${messageOf(err)}); ${REBUILD}.`, { cause: err });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Loads a model once; later jobs reuse it. */
async function load(name: DemoModelName, id: number): Promise<void> {
  if (name === 'colour' && models.colour) return;
  if (name === 'colour-stage2' && models.colour?.stage2) return;
  if (name === 'denoiser' && models.denoiser) return;
  if (name === 'class-conditioned' && models.classConditioned) return;
  index ??= JSON.parse(new TextDecoder().decode(await fetchBytes('models/models.json'))) as DemoModelIndex;
  const entry = index.models[name];
  if (!entry) throw new Error(`This site was built without the ${name} model (run its notebook and rebuild the report).`);
  scope.postMessage({ type: 'loading', id, model: name, bytes: entry.bytes });
  const bytes = await fetchBytes(`models/${entry.file}`);
  if (name === 'colour') {
    models.colour = readModel(entry.file, () => emojiStage1FromBytes(bytes, entry.file));
  } else if (name === 'colour-stage2') {
    await load('colour', id);
    models.colour!.stage2 = readModel(entry.file, () => emojiStage2FromBytes(bytes, entry.file));
  } else {
    const { net, config } = readModel(entry.file, () => readNetworkFile(bytes, entry.file, name === 'denoiser' ? 'denoiser' : 'class'));
    if (name === 'denoiser') models.denoiser = net as UNet;
    else models.classConditioned = { model: net as UNet, T: config.T, pixelRange: config.pixelRange };
  }
}

function modelFor(job: DemoJob): DemoModelName {
  switch (job.kind) {
    case 'upsample':
      return 'colour-stage2';
    case 'denoise-digit':
      return 'denoiser';
    case 'sample-digit':
      return 'class-conditioned';
    default:
      return 'colour';
  }
}

async function run(id: number, job: DemoJob): Promise<void> {
  const t0 = performance.now();
  await load(modelFor(job), id);
  const t1 = performance.now();
  const result = runDemoJob(models, job, (p) => {
    scope.postMessage({ type: 'progress', id, done: p.done, total: p.total, frame: p.frame });
  });
  const t2 = performance.now();
  scope.postMessage(
    { type: 'result', id, result, ms: { load: t1 - t0, compute: t2 - t1 } },
    result.images.map((r) => r.image.data.buffer),
  );
}

scope.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === 'init') {
    ready = start(msg.backend).catch((err: unknown) => scope.postMessage({ type: 'error', id: null, message: messageOf(err), starting: true }));
    return;
  }
  const id = msg.id;
  (ready ?? Promise.resolve()).then(() => run(id, msg.job)).catch((err: unknown) => scope.postMessage({ type: 'error', id, message: messageOf(err) }));
};

// A rejection nobody handled is not tied to a job: the page is told, and replaces this worker.
// (Uncaught exceptions reach the page as the Worker's error event.)
self.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  scope.postMessage({ type: 'error', id: null, message: messageOf(event.reason) });
});
