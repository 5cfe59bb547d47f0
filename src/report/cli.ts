import * as fs from 'fs';
import { Command } from 'commander';
import { getProfile } from '../writeup/profiles';
import { versionText } from '../lib/versions';
import { textOption, UsageError } from '../cli/options';

interface ReportOptions {
  profile?: string;
  seed?: string;
  only?: string[];
  force?: boolean;
  out: string;
  config: string;
  cellTimeout: string;
  model?: string;
  modelPath?: string;
  promptsPath?: string;
  pdf?: boolean;
  pdfOnly?: boolean;
  param?: string[];
  execute: boolean;
  trustNotebookHtml?: boolean;
}

/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `diffusion report` (npm run report): notebooks -> the writeup. The builder loads only when it runs. */
export function reportCommand(): Command {
  return new Command('report')
    .description('Execute the notebooks and render the writeup into site/ (npm run report)')
    .addHelpText(
      'after',
      `
Executes every notebook in notebooks/ with the project's TypeScript kernel (no Python needed) and
renders the writeup into site/. A notebook whose source, library code, profile and seed are
unchanged since its last successful run is not executed again; its stored copy under
outputs/executed/ is reused. A failing cell stops the build and leaves the previous site in place.`,
    )
    .version(versionText().trimEnd(), '-v, --version', 'the versions of diffusion-ts, Node.js and TensorFlow.js')
    .addOption(textOption('--profile <name>', 'full | quick | smoke (default quick)'))
    .addOption(textOption('--seed <s>', 'seed passed to every notebook (default 0)'))
    .option('--only <name>', 'execute only this notebook (repeatable); others come from the cache', collect)
    .option('--force', 'execute even notebooks whose cache is fresh')
    .addOption(textOption('--out <dir>', 'site folder; it must be new, empty or a site built here, since a build replaces it', 'site'))
    .addOption(textOption('--config <file>', "the writeup's title, parts and notebooks", 'report.config.json'))
    .addOption(textOption('--cell-timeout <s>', "seconds before a hung cell's kernel is killed", '3600'))
    .addOption(
      textOption(
        '--model <name>',
        "Part A's model: default (the profile's: builtin, or builtin-digits in smoke), builtin (the colour text-to-image model), builtin-digits, or deepfloyd-if",
      ),
    )
    .addOption(textOption('--model-path <dir>', 'deepfloyd-if: a diffusers folder of IF stage I (see docs/deepfloyd-if.md)'))
    .addOption(textOption('--prompts-path <file>', 'deepfloyd-if: prompt embeddings (safetensors, one tensor per prompt)'))
    .option('--pdf', "also print the site to site/writeup.pdf (Debian's chromium)")
    .option('--pdf-only', 'only print the existing site to site/writeup.pdf')
    .option(
      '-p, --param <name=value>',
      'set a parameter the notebooks declare in their parameters cell (repeatable), e.g. -p retrain=true; ' +
        '-p seed=3 and -p profile=smoke are --seed and --profile. A name that none of the notebooks to execute declares is an error',
      collect,
    )
    .option('--no-execute', 'render from the executed copies only (no notebook runs)')
    .option(
      '--trust-notebook-html',
      "put notebook HTML (text/html outputs, raw HTML in markdown) in the pages as written; by default it goes through an allow-list (no scripts, event handlers, styles or frames) and the pages' CSP allows no inline script",
    )
    .action(runReport);
}

async function runReport(values: ReportOptions): Promise<void> {
  // profile and seed are parameters too: -p seed=3 is --seed 3 (both given, they must agree).
  const params = notebookParameters(values.param ?? []);
  const profileText = sameOption('profile', values.profile, params.profile) ?? 'quick';
  const seedText = sameOption('seed', values.seed, params.seed) ?? '0';
  delete params.profile;
  delete params.seed;
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(seed)) throw new UsageError(`--seed must be a non-negative integer, got "${seedText}"`);
  const cellTimeout = Number(values.cellTimeout);
  if (!(Number.isFinite(cellTimeout) && cellTimeout > 0) || values.cellTimeout.trim() === '') {
    throw new UsageError(`--cell-timeout must be a positive number of seconds, got "${values.cellTimeout}"`);
  }
  getProfile(profileText); // an unknown name is an error naming the profiles
  const siteDir = values.out;
  if (!values.pdfOnly) {
    const { buildReport } = await import('./build');
    await buildReport({
      profile: profileText,
      seed,
      only: values.only,
      force: values.force,
      siteDir,
      config: values.config,
      trustNotebookHtml: values.trustNotebookHtml,
      cellTimeoutSec: cellTimeout,
      parameters: { ...partAModelParameters(values.model, values.modelPath, values.promptsPath), ...params },
      noExecute: !values.execute,
    });
  }
  if (values.pdf || values.pdfOnly) {
    const { printSiteToPdf } = await import('./pdf');
    const { file, bytes } = await printSiteToPdf({ siteDir, outFile: `${siteDir}/writeup.pdf` });
    process.stderr.write(`[report] PDF written to ${file} (${(bytes / 1e6).toFixed(1)} MB)\n`);
  }
}

/** An option also given as -p NAME=VALUE: the value, or an error when the two differ. */
function sameOption(name: string, option: string | undefined, param: string | number | boolean | undefined): string | undefined {
  const fromParam = param === undefined ? undefined : String(param);
  if (option !== undefined && fromParam !== undefined && option !== fromParam) {
    throw new UsageError(`--${name} ${option} and -p ${name}=${fromParam} disagree: give one of them.`);
  }
  return option ?? fromParam;
}

/** `-p name=value` (papermill's convention): true/false are booleans, numbers numbers, the rest strings. */
function notebookParameters(pairs: string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`-p takes name=value (e.g. -p retrain=true), got "${pair}"`);
    const raw = pair.slice(at + 1);
    // Decimal numbers only: "0x2" or "1e" stay strings (a notebook then refuses them by name).
    out[name] = raw === 'true' ? true : raw === 'false' ? false : /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw) ? Number(raw) : raw;
  }
  return out;
}

/** Part A's model parameters; IF needs both paths. */
function partAModelParameters(model?: string, modelPath?: string, promptsPath?: string): Record<string, string> | undefined {
  if (model === undefined || model === 'default' || model === 'builtin' || model === 'builtin-digits') {
    if (modelPath || promptsPath) throw new UsageError('--model-path and --prompts-path go with --model deepfloyd-if.');
    return model === undefined || model === 'default' ? undefined : { model };
  }
  if (model !== 'deepfloyd-if') throw new UsageError(`Unknown --model "${model}". Choose default, builtin, builtin-digits or deepfloyd-if.`);
  if (!modelPath || !promptsPath) throw new UsageError('--model deepfloyd-if needs --model-path DIR and --prompts-path FILE (see docs/deepfloyd-if.md).');
  if (!fs.existsSync(modelPath) || !fs.statSync(modelPath).isDirectory()) {
    throw new UsageError(`--model-path ${modelPath} is not a folder: give the diffusers folder of IF stage I (see docs/deepfloyd-if.md).`);
  }
  if (!fs.existsSync(promptsPath) || !fs.statSync(promptsPath).isFile()) {
    throw new UsageError(`--prompts-path ${promptsPath} is not a file: give the prompt embeddings (safetensors; see docs/deepfloyd-if.md).`);
  }
  return { model, modelPath, promptsPath };
}
