import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { runtimeOptions } from '../lib/runtime-options';
import { versions } from '../lib/versions';
import { outputsPath } from '../lib/io/outputs';
import { acquireLock } from '../lib/io/lock';
import { removeLeftoversOfDeadProcesses, removeStaleTempFiles } from '../lib/io/atomic';
import { replaceFolder } from '../lib/io/folders';
import { declaredParameters, executeNotebook, NotebookExecutionError } from './execute';
import { Cell, Notebook, readNotebook, writeNotebookAtomic } from './nbformat';
import { DEFAULT_REPORT_CONFIG, readReportConfig, ReportConfig } from './config';
import { assertReplaceableSite, buildSite } from './site';
import { FIGURES_DIR_ENV_VAR, RUN_INFO_MIME, RunInfo } from '../writeup/contract';

/**
 * `npm run report`: executes every notebook with the project kernel (skipping those whose inputs
 * are unchanged since their last successful run, like Quarto's freeze) and renders them into the
 * static site. A failing cell stops the build before the site is touched.
 */

/** Seconds between the lines that pass on a running cell's own progress. */
const PROGRESS_EVERY_SEC = 20;

/** The credits page (art, photos, data sets and their licences), published as credits.html. */
export const CREDITS_FILE = path.join('docs', 'credits.md');

export interface ReportOptions {
  profile: string;
  seed: number;
  /** Run only these notebooks (others come from the cache). */
  only?: string[];
  /** Execute even when the cache is fresh. */
  force?: boolean;
  /**
   * More parameters (e.g. Part A's model, modelPath, promptsPath), given only to the notebooks
   * whose parameters cell declares them.
   */
  parameters?: Record<string, string | number | boolean>;
  notebooksDir?: string;
  /** The writeup's title and parts: a file (default report.config.json) or the config itself. */
  config?: string | ReportConfig;
  siteDir?: string;
  /** Notebook HTML as written instead of through the allow-list (--trust-notebook-html). */
  trustNotebookHtml?: boolean;
  /** Execute nothing: render from the executed copies (an error for a notebook without one). */
  noExecute?: boolean;
  cacheDir?: string;
  cellTimeoutSec?: number;
  log?: (line: string) => void;
}

export interface ReportResult {
  executed: string[];
  cached: string[];
  /** Left out of the site: not selected by --only, and never executed with this profile and seed. */
  missing: string[];
  siteDir: string;
  figures: number;
}

/** Hash of every file under the given folders (sorted), to key the cache on library code. */
export function treeHash(dirs: string[]): string {
  const h = crypto.createHash('sha256');
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(p).update('\0').update(fs.readFileSync(p)).update('\0');
    }
  };
  dirs.forEach(walk);
  return h.digest('hex');
}

/** What a notebook's executed copy depends on; a change to any of it means running it again. */
export function cacheKey(notebookFile: string, profile: string, seed: number, codeHash: string, parameters: Record<string, unknown> = {}): string {
  const v = versions();
  return crypto
    .createHash('sha256')
    .update(
      JSON.stringify({
        notebook: fs.readFileSync(notebookFile, 'utf8'),
        profile,
        seed,
        parameters,
        code: codeHash,
        // The kernel inherits this process's environment, so these are the options it will run with.
        runtime: runtimeOptions(),
        tfjsNode: v['@tensorflow/tfjs-node'] ?? null,
        tfjsNodeGpu: v['@tensorflow/tfjs-node-gpu'] ?? null,
      }),
    )
    .digest('hex');
}

/** Drops what is for the live notebook only: progress and run-info displays, the injected parameters' echo. */
export function prepareForSite(nb: Notebook): Notebook {
  const cells: Cell[] = nb.cells.map((cell) => {
    if (cell.cell_type !== 'code') return cell;
    const tags = (cell.metadata?.tags as string[] | undefined) ?? [];
    const outputs = tags.includes('injected-parameters')
      ? []
      : cell.outputs.filter((o) => {
          const meta = o.output_type === 'display_data' ? (o.metadata as Record<string, unknown> | undefined) : undefined;
          return !(meta?.progress || meta?.runInfo);
        });
    return { ...cell, outputs };
  });
  return { ...nb, cells };
}

export async function buildReport(opts: ReportOptions): Promise<ReportResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const notebooksDir = opts.notebooksDir ?? 'notebooks';
  const siteDir = opts.siteDir ?? 'site';
  const cacheDir = opts.cacheDir ?? outputsPath('executed', `${opts.profile}-seed${opts.seed}`);
  const configFile = typeof opts.config === 'string' ? opts.config : DEFAULT_REPORT_CONFIG;
  const config = typeof opts.config === 'object' ? opts.config : readReportConfig(configFile);
  const all = config.parts.flatMap((p) => p.notebooks);
  for (const n of all) {
    if (!fs.existsSync(path.join(notebooksDir, `${n}.ipynb`))) {
      throw new Error(
        `${configFile} lists notebook "${n}", but ${path.join(notebooksDir, `${n}.ipynb`)} does not exist: add the notebook or remove it from the config.`,
      );
    }
  }
  const unlisted = fs.readdirSync(notebooksDir).filter((f) => f.endsWith('.ipynb') && !all.includes(f.slice(0, -'.ipynb'.length)));
  if (unlisted.length > 0) log(`[report] not in ${configFile}, so not built: ${unlisted.join(', ')}`);
  for (const n of opts.only ?? []) {
    if (!all.includes(n)) throw new Error(`--only ${n}: no such notebook. Notebooks: ${all.join(', ')}`);
  }
  checkParameters(
    opts,
    all.map((n) => [n, declaredParameters(readNotebook(path.join(notebooksDir, `${n}.ipynb`)))]),
  );
  // Before any notebook runs: the site folder must be new, empty or a site of ours (the build replaces it).
  assertReplaceableSite(path.resolve(siteDir));
  // Two builds at once would share outputs/ and the site folder: one at a time.
  const release = acquireLock(outputsPath('report.lock'), '`npm run report`');
  // What the notebooks of this build write (their figure folders and executed copies) waits in a
  // staging folder and replaces outputs/<notebook>/ and the cache only once the site is written:
  // after a failed build, outputs/ still matches the site it left in place.
  removeLeftoversOfDeadProcesses(outputsPath(), /^\.report-build-(\d+)-\d+$/);
  removeStaleTempFiles(cacheDir);
  const staging = outputsPath(`.report-build-${process.pid}-${Date.now()}`);
  try {
    return await executeAndRender(opts, log, { config, notebooksDir, siteDir, cacheDir, all, staging });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    release();
  }
}

/**
 * Every parameter must be declared by a notebook this build may execute (all of them, or those of
 * --only); profile and seed have their own options. A parameter nothing reads would be ignored.
 */
function checkParameters(opts: ReportOptions, declared: Array<[string, Set<string>]>): void {
  const names = Object.keys(opts.parameters ?? {});
  if (names.length > 0 && opts.noExecute) {
    throw new Error(
      `--no-execute runs no notebook, so ${names.map((n) => `"${n}"`).join(', ')} would change nothing: drop the parameters, or build without --no-execute.`,
    );
  }
  const selected = declared.filter(([n]) => !opts.only || opts.only.includes(n));
  for (const name of names) {
    if (name === 'profile' || name === 'seed') throw new Error(`Set ${name} with --${name}, not as a parameter.`);
    if (selected.some(([, ps]) => ps.has(name))) continue;
    const declaring = declared.filter(([, ps]) => ps.has(name)).map(([n]) => n);
    if (declaring.length > 0) {
      throw new Error(
        `None of the notebooks to execute (--only ${opts.only!.join(', ')}) declares "${name}"; ${declaring.join(', ')} ${declaring.length > 1 ? 'do' : 'does'}: add it with --only, or drop the parameter.`,
      );
    }
    const known = [...new Set(declared.flatMap(([, ps]) => [...ps]))].filter((n) => n !== 'profile' && n !== 'seed').sort();
    throw new Error(`No notebook declares a parameter "${name}" in its parameters cell. Declared: ${known.join(', ')}.`);
  }
}

async function executeAndRender(
  opts: ReportOptions,
  log: (line: string) => void,
  {
    config,
    notebooksDir,
    siteDir,
    cacheDir,
    all,
    staging,
  }: {
    config: ReportConfig;
    notebooksDir: string;
    siteDir: string;
    cacheDir: string;
    all: string[];
    staging: string;
  },
): Promise<ReportResult> {
  const codeHash = treeHash(['src/lib', 'src/writeup', 'kernel']);
  const executed: string[] = [];
  const cached: string[] = [];
  /** Notebooks left out of the site: --only skipped them and they never ran with this profile and seed. */
  const missing: string[] = [];
  const results = new Map<string, Notebook>();
  const started = Date.now();

  for (const [i, name] of all.entries()) {
    const file = path.join(notebooksDir, `${name}.ipynb`);
    const outFile = path.join(cacheDir, `${name}.ipynb`);
    const keyFile = path.join(cacheDir, `${name}.key`);
    const declared = declaredParameters(readNotebook(file));
    const extra = Object.fromEntries(Object.entries(opts.parameters ?? {}).filter(([k]) => declared.has(k)));
    const key = cacheKey(file, opts.profile, opts.seed, codeHash, extra);
    const selected = !opts.only || opts.only.includes(name);
    const fresh = fs.existsSync(outFile) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, 'utf8') === key;
    if ((fresh && !opts.force) || !selected || opts.noExecute) {
      if (!fs.existsSync(outFile)) {
        if (opts.noExecute) throw new Error(`--no-execute: ${name} has no executed copy in ${cacheDir}/; build once without --no-execute first.`);
        log(`[report] ${name}: not selected and never executed; left out of the site`);
        missing.push(name);
        continue;
      }
      if (!fresh) log(`[report] ${name}: not selected; using its last executed copy (inputs changed since)`);
      else log(`[report] ${name} (${i + 1}/${all.length}): unchanged, using the executed copy`);
      results.set(name, readNotebook(outFile));
      cached.push(name);
      continue;
    }
    log(`[report] ${name} (${i + 1}/${all.length}): executing with profile ${opts.profile}, seed ${opts.seed}`);
    const t0 = Date.now();
    // A long cell (training) reports its own progress; pass it on, one line every PROGRESS_EVERY_SEC.
    let lastProgressLine = t0;
    let nb: Notebook;
    try {
      nb = await executeNotebook(file, {
        parameters: { profile: opts.profile, seed: opts.seed, ...extra },
        env: { [FIGURES_DIR_ENV_VAR]: path.resolve(staging, 'figures') },
        timeoutSec: opts.cellTimeoutSec ?? 3600,
        onCell: (e) => {
          lastProgressLine = Date.now();
          if (e.state === 'done') {
            log(
              `[report]   ${name}: cell ${e.index + 1}/${e.total} done in ${e.elapsedSec.toFixed(1)} s (notebook ${fmt(e.notebookElapsedSec)}, build ${fmt((Date.now() - started) / 1000)})`,
            );
          }
        },
        onCellProgress: (e) => {
          if (Date.now() - lastProgressLine < PROGRESS_EVERY_SEC * 1000) return;
          lastProgressLine = Date.now();
          log(`[report]   ${name}: cell ${e.index + 1}/${e.total} running ${fmt(e.elapsedSec)}: ${e.text}`);
        },
      });
    } catch (err) {
      if (err instanceof NotebookExecutionError) {
        throw new Error(`${err.message}\nThe site in ${siteDir}/ was left as it was.`, { cause: err });
      }
      throw err;
    }
    writeNotebookAtomic(path.join(staging, 'executed', `${name}.ipynb`), nb);
    fs.writeFileSync(path.join(staging, 'executed', `${name}.key`), key);
    log(`[report] ${name}: done in ${fmt((Date.now() - t0) / 1000)}`);
    results.set(name, nb);
    executed.push(name);
  }

  const metadata = { profile: opts.profile, seed: opts.seed, ...(opts.parameters ?? {}), runtime: runtimeOptions(), versions: versions() };
  const parts = config.parts.map((p) => ({ ...p, notebooks: p.notebooks.filter((n) => results.has(n)) })).filter((p) => p.notebooks.length > 0);
  const site = await buildSite({
    outDir: siteDir,
    title: config.title,
    intro:
      (config.intro ? `${config.intro}\n\n` : '') +
      'Every figure on these pages was produced by the notebooks in `notebooks/`, run headlessly by `npm run report` ' +
      `with the **${opts.profile}** profile and seed **${opts.seed}**. \`manifest.json\` lists each figure with its hash and provenance.`,
    parts,
    notebooks: [...results.entries()].map(([name, nb]) => ({ name, notebook: prepareForSite(nb), metadata: runInfo(nb) })),
    appendix: [{ name: 'credits', title: 'Credits and licences', markdown: fs.readFileSync(CREDITS_FILE, 'utf8') }],
    demo: true,
    trustNotebookHtml: opts.trustNotebookHtml,
    metadata,
  });
  // The site is in place: this build's figures and executed copies become current too.
  for (const name of executed) {
    const figuresDir = path.join(staging, 'figures', name);
    if (fs.existsSync(figuresDir)) {
      replaceFolder(figuresDir, outputsPath(name));
    }
    fs.mkdirSync(cacheDir, { recursive: true });
    for (const ext of ['ipynb', 'key']) fs.renameSync(path.join(staging, 'executed', `${name}.${ext}`), path.join(cacheDir, `${name}.${ext}`));
  }
  const figures = site.manifest.figures.length;
  log(
    `[report] site written to ${siteDir}/: ${results.size} pages, ${figures} figures (executed ${executed.length}, cached ${cached.length}) in ${fmt((Date.now() - started) / 1000)}`,
  );
  if (missing.length > 0) {
    log(
      `[report] warning: the site has ${results.size} of ${all.length} notebooks. ${missing.join(', ')} never ran with profile ${opts.profile} and seed ${opts.seed}, ` +
        `so --only left them out; build them with \`npm run report -- --profile ${opts.profile} --seed ${opts.seed} ${missing.map((n) => `--only ${n}`).join(' ')}\`.`,
    );
  }
  return { executed, cached, missing, siteDir, figures };
}

/** What a notebook ran on (backend and runtime options), from the output startNotebook sends. */
function runInfo(nb: Notebook): Partial<RunInfo> {
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    for (const o of cell.outputs) {
      if (o.output_type === 'display_data' && RUN_INFO_MIME in o.data) return o.data[RUN_INFO_MIME] as RunInfo;
    }
  }
  return {};
}

function fmt(sec: number): string {
  const m = Math.floor(sec / 60);
  const s = Math.round(sec % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}
