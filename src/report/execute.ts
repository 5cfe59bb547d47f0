import * as path from 'path';
import { KernelClient, KernelMessage, KernelTimeoutError } from './kernel-client';
import { PROGRESS_STDERR_ENV_VAR } from '../writeup/contract';
import { Cell, cellTags, CodeCell, joinText, MimeBundle, Notebook, Output, readNotebook } from './nbformat';

/**
 * Runs a notebook's code cells top to bottom in a fresh tslab kernel and returns the executed
 * notebook (nbformat 4), like `jupyter nbconvert --execute` or papermill, without Python.
 *
 * Parameters (papermill style): the notebook's parameters cell is tagged `parameters` and declares
 * every parameter with `let`, one per statement, with an explicit type where the value is a union:
 *
 *     let profile: ProfileName = 'default';
 *     let seed = 0;
 *
 * `executeNotebook(file, { parameters: { profile: 'smoke' } })` inserts a cell tagged
 * `injected-parameters` right after it that assigns the new values (`profile = "smoke";`). Plain
 * assignment keeps the types the notebook declared; a `const` there cannot be reassigned, and a
 * redeclaring `const` in the injected cell would narrow the type to a literal and break later
 * comparisons, hence `let`.
 */

/** Values a parameter may take: anything JSON can write, which is also a TypeScript literal. */
export type ParameterValue = string | number | boolean | null | ParameterValue[] | { [key: string]: ParameterValue };

export interface CellProgress {
  /** Position of the code cell among the notebook's code cells, from 0. */
  index: number;
  /** Number of code cells. */
  total: number;
  /** Position of the cell in the whole notebook (markdown included), from 0. */
  cellIndex: number;
  /** 'start' before the cell runs, 'running' for progress it reports, 'done' after it succeeded. */
  state: 'start' | 'running' | 'done';
  /** Seconds the cell took (0 at 'start'). */
  elapsedSec: number;
  /** Seconds since the notebook's kernel was started. */
  notebookElapsedSec: number;
}

export interface ExecuteOptions {
  /** Kernel working directory; default: the repository root (notebooks import './src/lib/...'). */
  cwd?: string;
  /** Longest time one cell may run before the kernel is killed; default 600 s. */
  timeoutSec?: number;
  /** Longest time the kernel may take to start; default 60 s. */
  startTimeoutSec?: number;
  /** Values for the parameters cell (see the convention above). */
  parameters?: Record<string, ParameterValue>;
  /** More environment variables for the kernel (e.g. where figures go during a report build). */
  env?: Record<string, string>;
  onCell?: (progress: CellProgress) => void;
  /**
   * Progress reported from inside a running cell, as it happens: notebookProgress's line (e.g.
   * "training: 120/500 (24%) ..."), which the kernel writes to its stderr when asked (run-info.ts).
   */
  onCellProgress?: (progress: CellProgress & { state: 'running'; text: string }) => void;
}

/** A cell failed, hung or the kernel died: names the notebook, the cell and the error text. */
export class NotebookExecutionError extends Error {
  constructor(
    readonly notebook: string,
    /** Position of the failing cell in the notebook (markdown included), from 0. */
    readonly cellIndex: number,
    readonly errorText: string,
    /** The notebook as far as it ran, with the failing cell's outputs, for inspection. */
    readonly partial: Notebook,
  ) {
    const cell = partial.cells[cellIndex];
    const firstLine =
      joinText(cell.source)
        .split('\n')
        .find((l) => l.trim() !== '') ?? '';
    super(
      `Notebook ${path.basename(notebook)} failed in cell ${cellIndex + 1} of ${partial.cells.length}` +
        ` (${firstLine.trim().slice(0, 80)}):\n${errorText.trim()}\n` +
        `Fix the cell and run again; open ${notebook} in Jupyter (npm run jupyter) to debug it.`,
    );
    this.name = 'NotebookExecutionError';
  }
}

const PARAMETERS_TAG = 'parameters';
const INJECTED_TAG = 'injected-parameters';

/**
 * Returns a copy of `nb` with a cell tagged `injected-parameters` after the `parameters` cell that
 * assigns `parameters` (replacing an injected cell left from an earlier run). Each name must be
 * declared with `let` in the parameters cell.
 */
export function injectParameters(nb: Notebook, parameters: Record<string, ParameterValue>, notebookName = 'notebook'): Notebook {
  const cells = nb.cells.filter((c) => !cellTags(c).includes(INJECTED_TAG));
  const at = cells.findIndex((c) => c.cell_type === 'code' && cellTags(c).includes(PARAMETERS_TAG));
  if (at < 0) {
    throw new Error(
      `Notebook ${notebookName} has no cell tagged "${PARAMETERS_TAG}", so parameters ${Object.keys(parameters).join(', ')} cannot be set. ` +
        'Add a code cell declaring them with `let` and give it the tag "parameters".',
    );
  }
  const declared = declaredIn(cells[at]);
  const lines = ['// Injected parameters (executeNotebook)'];
  for (const [name, value] of Object.entries(parameters)) {
    if (!declared.has(name)) {
      throw new Error(
        `Notebook ${notebookName} has no parameter "${name}": its parameters cell declares ${[...declared].join(', ') || 'nothing'} with \`let\`. ` +
          `Declare it there as \`let ${name} = ...;\` or drop the option.`,
      );
    }
    lines.push(`${name} = ${literal(name, value)};`);
  }
  const injected: CodeCell = {
    cell_type: 'code',
    metadata: { tags: [INJECTED_TAG] },
    source: lines.join('\n'),
    outputs: [],
    execution_count: null,
  };
  // A fixed id (unique: an earlier injected cell was removed above), so identical builds write identical files.
  if (nb.nbformat_minor >= 5) injected.id = INJECTED_TAG;
  return { ...nb, cells: [...cells.slice(0, at + 1), injected, ...cells.slice(at + 1)] };
}

/** Names a parameters cell declares with `let`. */
function declaredIn(cell: Cell): Set<string> {
  return new Set([...joinText(cell.source).matchAll(/\blet\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
}

/** The parameters a notebook declares (empty when it has no cell tagged "parameters"). */
export function declaredParameters(nb: Notebook): Set<string> {
  const cell = nb.cells.find((c) => c.cell_type === 'code' && cellTags(c).includes(PARAMETERS_TAG));
  return cell ? declaredIn(cell) : new Set();
}

function literal(name: string, value: ParameterValue): string {
  const text = JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`Parameter ${name} must be a finite number, got ${v}.`);
    return v;
  });
  if (text === undefined) throw new Error(`Parameter ${name} has no JSON form (got ${typeof value}); pass a string, number, boolean, array or object.`);
  return text;
}

/** Executes `file` in a fresh kernel and returns the executed notebook; the file itself is not changed. */
export async function executeNotebook(file: string, options: ExecuteOptions = {}): Promise<Notebook> {
  const name = path.basename(file);
  let nb = readNotebook(file);
  if (options.parameters && Object.keys(options.parameters).length > 0) nb = injectParameters(nb, options.parameters, name);
  nb = structuredClone(nb);
  const timeoutMs = (options.timeoutSec ?? 600) * 1000;
  const codeCells = nb.cells.map((c, i) => [c, i] as const).filter((pair): pair is readonly [CodeCell, number] => pair[0].cell_type === 'code');
  const started = Date.now();

  let kernel: KernelClient;
  try {
    const env = options.onCellProgress ? { ...options.env, [PROGRESS_STDERR_ENV_VAR]: '1' } : options.env;
    kernel = await KernelClient.start({ cwd: options.cwd, startTimeoutSec: options.startTimeoutSec, env });
  } catch (err) {
    throw new Error(`Notebook ${name}: the kernel did not start. ${(err as Error).message}`, { cause: err });
  }
  try {
    nb.metadata = { ...nb.metadata, language_info: kernel.kernelInfo.language_info ?? nb.metadata.language_info };
    for (const [k, [cell, cellIndex]] of codeCells.entries()) {
      const cellStart = Date.now();
      const progress = (state: CellProgress['state']): CellProgress => ({
        index: k,
        total: codeCells.length,
        cellIndex,
        state,
        elapsedSec: (Date.now() - cellStart) / 1000,
        notebookElapsedSec: (Date.now() - started) / 1000,
      });
      options.onCell?.(progress('start'));
      cell.outputs = [];
      cell.execution_count = null;
      const code = joinText(cell.source);
      if (code.trim() !== '') {
        let result;
        try {
          kernel.onProgressLine = (text) => options.onCellProgress?.({ ...progress('running'), state: 'running', text });
          result = await kernel.execute(code, timeoutMs);
        } catch (err) {
          const text = err instanceof KernelTimeoutError ? `The cell ${err.message}. Make it faster, or raise the per-cell timeout.` : (err as Error).message;
          throw new NotebookExecutionError(file, cellIndex, text, nb);
        }
        cell.execution_count = result.executionCount;
        cell.outputs = toOutputs(result.iopub);
        const errorText = cellErrorText(result.status, cell.outputs);
        if (errorText !== null) throw new NotebookExecutionError(file, cellIndex, errorText, nb);
      }
      options.onCell?.(progress('done'));
    }
    await kernel.shutdown();
  } finally {
    await kernel.kill();
  }
  return nb;
}

/** tslab prints these to stderr for errors thrown outside the cell's own promise chain (timers, callbacks). */
const BACKGROUND_ERROR = /^(UncaughtException|UnhandledPromiseRejection):/m;

/** The error text of a failed cell, or null when it succeeded. tslab reports errors as stderr text. */
function cellErrorText(status: 'ok' | 'error' | 'abort', outputs: Output[]): string | null {
  const stderr = outputs.map((o) => (o.output_type === 'stream' && o.name === 'stderr' ? o.text : '')).join('');
  const errors = outputs.flatMap((o) => (o.output_type === 'error' ? [`${o.ename}: ${o.evalue}\n${o.traceback.join('\n')}`] : []));
  if (status === 'ok' && errors.length === 0 && !BACKGROUND_ERROR.test(stderr)) return null;
  if (status === 'abort') return 'The kernel aborted the cell (an earlier request failed).';
  const text = withoutKernelFrames(stripAnsi([...errors, stderr].join('\n'))).trim();
  return text || 'The kernel reported an error but printed no message.';
}

/** Drops stack frames inside tslab and node:vm, which say nothing about the notebook's code. */
function withoutKernelFrames(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s+at .*(node_modules[\\/]tslab[\\/]|node:vm:|sigintHandlersWrap)/.test(line))
    .join('\n');
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex -- ESC is exactly what is being removed
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

/**
 * Turns a cell's iopub messages into nbformat outputs: consecutive stream chunks of the same
 * name are joined, update_display_data replaces the output with the same display_id, and
 * clear_output empties the list (at once, or before the next output when wait is set).
 */
export function toOutputs(messages: KernelMessage[]): Output[] {
  const outputs: Output[] = [];
  const byDisplayId = new Map<string, Output & { data: MimeBundle }>();
  let clearPending = false;
  const clear = (): void => {
    outputs.length = 0;
    byDisplayId.clear();
    clearPending = false;
  };
  for (const { header, content } of messages) {
    const type = header.msg_type;
    if (type === 'clear_output') {
      if (content.wait) clearPending = true;
      else clear();
      continue;
    }
    if (!['stream', 'display_data', 'execute_result', 'error', 'update_display_data'].includes(type)) continue;
    if (clearPending && type !== 'update_display_data') clear();
    const data = (content.data ?? {}) as MimeBundle;
    const metadata = (content.metadata ?? {}) as Record<string, unknown>;
    const transient = (content.transient ?? {}) as { display_id?: string };
    if (type === 'stream') {
      const name = content.name === 'stderr' ? 'stderr' : 'stdout';
      const text = String(content.text ?? '');
      const last = outputs[outputs.length - 1];
      if (last && last.output_type === 'stream' && last.name === name) last.text += text;
      else outputs.push({ output_type: 'stream', name, text });
    } else if (type === 'update_display_data') {
      const target = transient.display_id ? byDisplayId.get(transient.display_id) : undefined;
      if (target) {
        target.data = data;
        if ('metadata' in target) target.metadata = metadata;
      }
    } else if (type === 'error') {
      const traceback = Array.isArray(content.traceback) ? content.traceback.map((t) => stripAnsi(String(t))) : [];
      outputs.push({ output_type: 'error', ename: String(content.ename ?? 'Error'), evalue: String(content.evalue ?? ''), traceback });
    } else {
      const output: Output & { data: MimeBundle } =
        type === 'execute_result'
          ? { output_type: 'execute_result', data, metadata, execution_count: typeof content.execution_count === 'number' ? content.execution_count : null }
          : { output_type: 'display_data', data, metadata };
      outputs.push(output);
      if (transient.display_id) byDisplayId.set(transient.display_id, output);
    }
  }
  return outputs;
}
