import * as fs from 'fs';

/**
 * report.config.json: what the writeup is made of (its title, its parts and which notebooks each
 * holds, in reading order). `npm run report` reads it from the repository root; `--config FILE`
 * names another. Everything is checked on reading, so a typo is an error naming the field.
 */

export const DEFAULT_REPORT_CONFIG = 'report.config.json';

export interface ReportPart {
  title: string;
  /** Markdown under the part's heading on the index. */
  intro?: string;
  /** Notebook names (notebooks/<name>.ipynb), in reading order. */
  notebooks: string[];
}

export interface ReportConfig {
  /** The writeup's title: the index heading and every page's <title>. */
  title: string;
  /** Markdown under the title on the index (before the line saying how the figures were made). */
  intro?: string;
  parts: ReportPart[];
}

const NOTEBOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Reads and checks a report config file; errors name the file, the field and the fix. */
export function readReportConfig(file = DEFAULT_REPORT_CONFIG): ReportConfig {
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: the report reads its title and parts from it. Run from the repository root, or pass --config FILE.`);
  }
  if (fs.statSync(file).isDirectory()) throw new Error(`--config ${file} is a folder: give a JSON file like report.config.json.`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}). Fix it, or restore it with git checkout ${file}.`, { cause: err });
  }
  return parseReportConfig(raw, file);
}

/** Checks a parsed config; `where` names its source in error messages. */
export function parseReportConfig(raw: unknown, where = DEFAULT_REPORT_CONFIG): ReportConfig {
  const fail = (field: string, problem: string): never => {
    throw new Error(`${where}: ${field} ${problem}.`);
  };
  const object = (value: unknown, field: string, allowed: string[]): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(field, `must be an object, got ${JSON.stringify(value)}`);
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key) && !key.startsWith('$')) fail(`${field}.${key}`, `is not a known field (known: ${allowed.join(', ')})`);
    }
    return value as Record<string, unknown>;
  };
  const text = (value: unknown, field: string, optional: boolean): string | undefined => {
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string' || value.trim() === '') return fail(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
    return value;
  };

  const top = object(raw, 'the config', ['title', 'intro', 'parts']);
  const title = text(top.title, 'title', false) as string;
  const intro = text(top.intro, 'intro', true);
  if (!Array.isArray(top.parts) || top.parts.length === 0) fail('parts', 'must be a non-empty list of {"title", "notebooks"}');
  const seen = new Map<string, string>();
  const parts = (top.parts as unknown[]).map((value, i): ReportPart => {
    const field = `parts[${i}]`;
    const part = object(value, field, ['title', 'intro', 'notebooks']);
    const notebooks = part.notebooks;
    if (!Array.isArray(notebooks) || notebooks.length === 0) return fail(`${field}.notebooks`, 'must be a non-empty list of notebook names');
    notebooks.forEach((name: unknown, k) => {
      const at = `${field}.notebooks[${k}]`;
      if (typeof name !== 'string' || !NOTEBOOK_NAME.test(name) || name.endsWith('.ipynb')) {
        fail(at, `must be a notebook name without folder or .ipynb (e.g. "b1-single-step-denoiser"), got ${JSON.stringify(name)}`);
      }
      if (seen.has(name as string)) fail(at, `repeats "${name}", already in ${seen.get(name as string)}: list each notebook once`);
      seen.set(name as string, at);
    });
    const result: ReportPart = { title: text(part.title, `${field}.title`, false) as string, notebooks: notebooks as string[] };
    const partIntro = text(part.intro, `${field}.intro`, true);
    if (partIntro !== undefined) result.intro = partIntro;
    return result;
  });
  return intro === undefined ? { title, parts } : { title, intro, parts };
}
