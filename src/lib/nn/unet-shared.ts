// The shared memory between UNetWorkers (main thread) and its workers (unet-worker.ts): control
// words per worker, then the inputs and outputs of one call for up to `capacity` images.

/** Control words of one worker, at index * WORKER_WORDS. */
export const STATE = { state: 0, first: 1, count: 2, hasT: 3, hasC: 4 } as const;
export const WORKER_WORDS = 8;

export enum WorkerState {
  Starting = 0,
  Idle = 1,
  Posted = 2,
  Done = 3,
  Failed = 4,
  StartFailed = 5,
  Stop = 6,
}

export interface SharedLayout {
  workers: number;
  /** Images per round at most (UNetWorkers.forward splits larger calls into rounds). */
  capacity: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

export interface SharedViews {
  control: Int32Array;
  /** Images [capacity, height, width, channels]. */
  x: Float32Array;
  /** t / T per image. */
  t: Float32Array;
  /** One-hot classes [capacity, numClasses]. */
  c: Float32Array;
  /** Outputs, shaped as x. */
  out: Float32Array;
}

function floats(layout: SharedLayout) {
  const image = layout.height * layout.width * layout.channels;
  return { x: layout.capacity * image, t: layout.capacity, c: layout.capacity * layout.numClasses, out: layout.capacity * image };
}

export function sharedBytes(layout: SharedLayout): number {
  const f = floats(layout);
  return 4 * (layout.workers * WORKER_WORDS + f.x + f.t + f.c + f.out);
}

export function sharedViews(buffer: SharedArrayBuffer, layout: SharedLayout): SharedViews {
  const f = floats(layout);
  const control = new Int32Array(buffer, 0, layout.workers * WORKER_WORDS);
  let at = control.byteLength;
  const next = (n: number) => {
    const view = new Float32Array(buffer, at, n);
    at += 4 * n;
    return view;
  };
  return { control, x: next(f.x), t: next(f.t), c: next(f.c), out: next(f.out) };
}
