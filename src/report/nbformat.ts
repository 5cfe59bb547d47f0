import * as fs from 'fs';
import { writeFileAtomic } from '../lib/io/atomic';

/**
 * Jupyter notebooks (nbformat 4) as the report builder sees them, in two strictnesses:
 * - `Notebook` is what the executor writes (execute.ts): every field present, text as one string;
 * - `ExecutedNotebook` is what the renderer accepts (render.ts): anything nbformat 4 allows on
 *   disk, text as a string or a list of lines, optional fields missing. Every `Notebook` is one.
 */

// What the executor writes.
export type MimeBundle = Record<string, unknown>;

export type Output =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

export interface CodeCell {
  cell_type: 'code';
  id?: string;
  metadata: Record<string, unknown> & { tags?: string[] };
  source: string | string[];
  outputs: Output[];
  execution_count: number | null;
}

export interface TextCell {
  cell_type: 'markdown' | 'raw';
  id?: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  attachments?: Record<string, MimeBundle>;
}

export type Cell = CodeCell | TextCell;

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

// What the renderer reads: loose enough for notebooks from disk as well as the executor's own.
export type MultilineText = string | string[];

export type NotebookOutput =
  | { output_type: 'stream'; name: string; text: MultilineText }
  | {
      output_type: 'display_data' | 'execute_result';
      data: Record<string, unknown>;
      metadata?: Record<string, unknown>;
      execution_count?: number | null;
    }
  | { output_type: 'error'; ename: string; evalue: string; traceback?: string[] };

export interface NotebookCell {
  cell_type: 'markdown' | 'code' | 'raw';
  source: MultilineText;
  metadata?: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface ExecutedNotebook {
  nbformat: number;
  metadata?: Record<string, unknown>;
  cells: NotebookCell[];
}

/** A cell's text: nbformat stores it as one string or a list of lines. */
export function joinText(text: MultilineText | undefined): string {
  if (text === undefined) return '';
  return Array.isArray(text) ? text.join('') : text;
}

/** A cell's tags (metadata.tags), the strings only. */
export function cellTags(cell: { metadata?: Record<string, unknown> }): string[] {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

export function readNotebook(file: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
  } catch (err) {
    throw new Error(`Cannot read notebook ${file}: ${(err as Error).message}. It must be a Jupyter notebook (nbformat 4 JSON).`, { cause: err });
  }
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
    throw new Error(`Notebook ${file} is not nbformat 4 (found nbformat ${String(nb.nbformat)}). Save it from Jupyter 4 or later.`);
  }
  return nb;
}

/** Writes an executed notebook atomically (one space indentation and a final newline, like Jupyter). */
export function writeNotebookAtomic(file: string, nb: Notebook): void {
  writeFileAtomic(file, JSON.stringify(nb, null, 1) + '\n');
}
