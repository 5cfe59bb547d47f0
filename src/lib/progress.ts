/**
 * Progress reporting for long loops (training steps, sampling steps, downloads): a redrawn bar on
 * a terminal, plain lines in logs, and a throttled callback for notebooks and other UIs.
 */

export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
  elapsedSec: number;
  /** Seconds left at the current average rate; null while it cannot be estimated yet. */
  etaSec: number | null;
  /** Items per second, averaged since the start. */
  rate: number;
  /** Latest values passed with tick/set/finish, e.g. loss and epoch. */
  info?: Record<string, number | string>;
}

export type ProgressCallback = (e: ProgressEvent) => void;

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'silent';

export interface ProgressOptions {
  phase: string;
  total: number;
  /** Name of one item, shown in the rate ("it/s" by default). */
  unit?: string;
  /** Where the bar or lines go; default process.stderr. */
  stream?: NodeJS.WritableStream;
  /** auto: a bar when the stream is a terminal, else plain lines. */
  mode?: ProgressMode;
  /** Seconds between plain lines in lines mode; default 5. */
  intervalSec?: number;
  /** Called at most every 0.2 s, and always at finish. */
  onProgress?: ProgressCallback;
  /** Clock in milliseconds; default performance.now. For tests. */
  now?: () => number;
  /** Items already done before this session (a resumed run): counted in done, not in the rate. */
  initial?: number;
}

export interface Progress {
  /** Adds n items done (default 1). */
  tick(n?: number, info?: Record<string, number | string>): void;
  /** Sets the number of items done. */
  set(done: number, info?: Record<string, number | string>): void;
  /** Reports the final state: ends the bar's line, prints the last line, calls back. Idempotent. */
  finish(info?: Record<string, number | string>): void;
}

const BAR_REDRAW_MS = 100;
const CALLBACK_MS = 200;
const BAR_WIDTH = 20;

/** A number in few characters: integers as they are, others to 4 significant digits. */
export function formatCompact(x: number): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e4) return x.toFixed(0);
  if (a < 1e-3) return String(Number(x.toExponential(3)));
  return String(Number(x.toPrecision(4)));
}

/** Seconds as m:ss, or h:mm:ss from an hour up. */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function formatRate(rate: number): string {
  if (rate >= 100) return rate.toFixed(0);
  if (rate >= 10) return rate.toFixed(1);
  return rate.toFixed(2);
}

function formatInfo(info: Record<string, number | string> | undefined): string {
  if (info === undefined) return '';
  return Object.entries(info)
    .map(([k, v]) => ` ${k}=${typeof v === 'number' ? formatCompact(v) : v}`)
    .join('');
}

function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  const unit = opts.unit ?? 'it';
  const intervalMs = (opts.intervalSec ?? 5) * 1000;
  const requested = opts.mode ?? 'auto';
  const mode = requested === 'auto' ? (isTerminal(stream) ? 'bar' : 'lines') : requested;

  const start = now();
  const initial = opts.initial ?? 0;
  let done = initial;
  let info: Record<string, number | string> | undefined;
  let finished = false;
  let lastDraw = -Infinity; // bar: draw on the first update
  let lastLine = start; // lines: first line after one interval
  let lastCallback = -Infinity;
  let drawnWidth = 0;

  function event(t: number, final: boolean): ProgressEvent {
    const elapsedSec = Math.max(0, (t - start) / 1000);
    const rate = elapsedSec > 0 ? (done - initial) / elapsedSec : 0;
    let etaSec: number | null = null;
    if (final || done >= opts.total) etaSec = 0;
    else if (rate > 0) etaSec = (opts.total - done) / rate;
    const e: ProgressEvent = { phase: opts.phase, done, total: opts.total, elapsedSec, etaSec, rate };
    if (info !== undefined) e.info = { ...info };
    return e;
  }

  function barText(e: ProgressEvent): string {
    const frac = e.total > 0 ? Math.min(1, Math.max(0, e.done / e.total)) : 0;
    const filled = Math.round(frac * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
    const eta = e.etaSec === null ? '?' : formatDuration(e.etaSec);
    return `${e.phase} [${bar}] ${e.done}/${e.total} ${formatRate(e.rate)} ${unit}/s eta ${eta}${formatInfo(e.info)}`;
  }

  function lineText(e: ProgressEvent, final: boolean): string {
    const pct = e.total > 0 ? ` (${Math.floor((100 * e.done) / e.total)}%)` : '';
    const timing = final
      ? `done in ${formatDuration(e.elapsedSec)}`
      : `elapsed ${formatDuration(e.elapsedSec)} eta ${e.etaSec === null ? '?' : formatDuration(e.etaSec)}`;
    return `${e.phase} ${e.done}/${e.total}${pct} ${formatRate(e.rate)} ${unit}/s ${timing}${formatInfo(e.info)}\n`;
  }

  function drawBar(e: ProgressEvent): void {
    const text = barText(e);
    // Pad with spaces to wipe the end of a longer previous line.
    stream.write(`\r${text}${' '.repeat(Math.max(0, drawnWidth - text.length))}`);
    drawnWidth = text.length;
  }

  function update(newInfo: Record<string, number | string> | undefined): void {
    if (finished) return;
    if (newInfo !== undefined) info = { ...info, ...newInfo };
    const t = now();
    let e: ProgressEvent | undefined;
    if (mode === 'bar' && t - lastDraw >= BAR_REDRAW_MS) {
      e = event(t, false);
      drawBar(e);
      lastDraw = t;
    } else if (mode === 'lines' && t - lastLine >= intervalMs) {
      e = event(t, false);
      stream.write(lineText(e, false));
      lastLine = t;
    }
    if (opts.onProgress !== undefined && t - lastCallback >= CALLBACK_MS) {
      opts.onProgress(e ?? event(t, false));
      lastCallback = t;
    }
  }

  return {
    tick(n = 1, newInfo) {
      done += n;
      update(newInfo);
    },
    set(value, newInfo) {
      done = value;
      update(newInfo);
    },
    finish(newInfo) {
      if (finished) return;
      if (newInfo !== undefined) info = { ...info, ...newInfo };
      finished = true;
      const e = event(now(), true);
      if (mode === 'bar') {
        drawBar(e);
        stream.write('\n');
      } else if (mode === 'lines') {
        stream.write(lineText(e, true));
      }
      opts.onProgress?.(e);
    },
  };
}

/**
 * Adapts a progress callback (e.g. the notebook's live progress line) to the pipelines' onStep,
 * with elapsed time, rate, ETA and the timestep reached (when the loop passes it; Part B's sampler does not).
 */
export function stepProgress(onProgress: ProgressCallback, phase = 'denoising'): (done: number, total: number, t?: number) => void {
  let start = 0;
  return (done, total, t) => {
    const now = Date.now();
    if (done <= 1 || start === 0) start = now - 1;
    const elapsedSec = (now - start) / 1000;
    const rate = elapsedSec > 0 ? done / elapsedSec : 0;
    onProgress({ phase, done, total, elapsedSec, rate, etaSec: rate > 0 ? (total - done) / rate : null, info: t === undefined ? undefined : { t } });
  };
}

/**
 * Steps of several runs done one after another, reported as one count: run k's step `done` is
 * sent to `onStep` as (the steps of the runs before it) + done, out of all their steps. Returns
 * one step callback per run.
 */
export function sequentialSteps(stepsPerRun: readonly number[], onStep?: (done: number, total: number) => void): Array<(done: number) => void> {
  const total = stepsPerRun.reduce((a, b) => a + b, 0);
  let before = 0;
  return stepsPerRun.map((steps) => {
    const offset = before;
    before += steps;
    return (done: number) => onStep?.(offset + done, total);
  });
}
