#!/usr/bin/env node
import * as fs from 'fs';
import { parseArgs } from 'util';
import { buildReport } from './build';
import { printSiteToPdf } from './pdf';
import { getProfile } from '../writeup/profiles';
import { versionText } from '../lib/versions';

const HELP = `npm run report -- [options]     (or: diffusion report [options])

Executes every notebook in notebooks/ with the project's TypeScript kernel (no Python needed) and
renders the writeup into site/. A notebook whose source, library code, profile and seed are
unchanged since its last successful run is not executed again; its stored copy under
outputs/executed/ is reused. A failing cell stops the build and leaves the previous site in place.

Options:
  --profile NAME     full | quick | smoke (default quick)
  --seed S           seed passed to every notebook (default 0)
  --only NAME        execute only this notebook (repeatable); others come from the cache
  --force            execute even notebooks whose cache is fresh
  --out DIR          site folder (default site); it must be new, empty or a site built here, since a build replaces it
  --config FILE      the writeup's title, parts and notebooks (default report.config.json)
  --cell-timeout S   seconds before a hung cell's kernel is killed (default 3600)
  --model NAME       Part A's model: default (the profile's: builtin, or builtin-digits in smoke),
                     builtin (the colour text-to-image model), builtin-digits, or deepfloyd-if
  --model-path DIR   deepfloyd-if: a diffusers folder of IF stage I (see docs/deepfloyd-if.md)
  --prompts-path F   deepfloyd-if: prompt embeddings (safetensors, one tensor per prompt)
  --pdf              also print the site to site/writeup.pdf (Debian's chromium)
  --pdf-only         only print the existing site to site/writeup.pdf
  -p, --param NAME=VALUE
                     set a parameter the notebooks declare in their parameters cell (repeatable),
                     e.g. -p retrain=true; -p seed=3 and -p profile=smoke are --seed and --profile.
                     A name that none of the notebooks to execute declares is an error
  --no-execute       render from the executed copies only (no notebook runs)
  --trust-notebook-html
                     put notebook HTML (text/html outputs, raw HTML in markdown) in the pages as
                     written; by default it goes through an allow-list (no scripts, event
                     handlers, styles or frames) and the pages' CSP allows no inline script
  -v, --version      the versions of diffusion-ts, Node.js and TensorFlow.js
  -h, --help         this help
`;

/** The options that take a value, so that `--seed -1` reads -1 as the seed (then refused) rather than as an option. */
const VALUE_OPTIONS = ['profile', 'seed', 'only', 'out', 'config', 'cell-timeout', 'model', 'model-path', 'prompts-path', 'param'];

/** The report builder's command line (npm run report, diffusion report). */
export async function runReportCli(args: string[]): Promise<void> {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') && !args[i].includes('=') ? args[i].slice(2) : null;
    if (name && VALUE_OPTIONS.includes(name) && /^-[\d.]/.test(args[i + 1] ?? '')) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  const { values } = parseArgs({
    args: joined,
    options: {
      profile: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string', multiple: true },
      force: { type: 'boolean' },
      out: { type: 'string', default: 'site' },
      config: { type: 'string', default: 'report.config.json' },
      'cell-timeout': { type: 'string', default: '3600' },
      pdf: { type: 'boolean' },
      model: { type: 'string' },
      'model-path': { type: 'string' },
      'prompts-path': { type: 'string' },
      'pdf-only': { type: 'boolean' },
      'trust-notebook-html': { type: 'boolean' },
      param: { type: 'string', short: 'p', multiple: true },
      'no-execute': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(versionText());
    return;
  }
  // profile and seed are parameters too: -p seed=3 is --seed 3 (both given, they must agree).
  const params = notebookParameters(values.param ?? []);
  const profileText = sameOption('profile', values.profile, params.profile) ?? 'quick';
  const seedText = sameOption('seed', values.seed, params.seed) ?? '0';
  delete params.profile;
  delete params.seed;
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(seed)) throw new Error(`--seed must be a non-negative integer, got "${seedText}"`);
  const cellTimeout = Number(values['cell-timeout']);
  if (!(Number.isFinite(cellTimeout) && cellTimeout > 0) || String(values['cell-timeout']).trim() === '') {
    throw new Error(`--cell-timeout must be a positive number of seconds, got "${values['cell-timeout']}"`);
  }
  getProfile(profileText); // an unknown name is an error naming the profiles
  const siteDir = String(values.out);
  if (!values['pdf-only']) {
    await buildReport({
      profile: profileText,
      seed,
      only: values.only,
      force: values.force,
      siteDir,
      config: values.config,
      trustNotebookHtml: values['trust-notebook-html'],
      cellTimeoutSec: cellTimeout,
      parameters: { ...partAModelParameters(values.model, values['model-path'], values['prompts-path']), ...params },
      noExecute: values['no-execute'],
    });
  }
  if (values.pdf || values['pdf-only']) {
    const { file, bytes } = await printSiteToPdf({ siteDir, outFile: `${siteDir}/writeup.pdf` });
    process.stderr.write(`[report] PDF written to ${file} (${(bytes / 1e6).toFixed(1)} MB)\n`);
  }
}

/** An option also given as -p NAME=VALUE: the value, or an error when the two differ. */
function sameOption(name: string, option: string | undefined, param: string | number | boolean | undefined): string | undefined {
  const fromParam = param === undefined ? undefined : String(param);
  if (option !== undefined && fromParam !== undefined && option !== fromParam) {
    throw new Error(`--${name} ${option} and -p ${name}=${fromParam} disagree: give one of them.`);
  }
  return option ?? fromParam;
}

/** `-p name=value` (papermill's convention): true/false are booleans, numbers numbers, the rest strings. */
function notebookParameters(pairs: string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`-p takes name=value (e.g. -p retrain=true), got "${pair}"`);
    const raw = pair.slice(at + 1);
    // Decimal numbers only: "0x2" or "1e" stay strings (a notebook then refuses them by name).
    out[name] = raw === 'true' ? true : raw === 'false' ? false : /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw) ? Number(raw) : raw;
  }
  return out;
}

/** Part A's model parameters; IF needs both paths. */
function partAModelParameters(model?: string, modelPath?: string, promptsPath?: string): Record<string, string> | undefined {
  if (model === undefined || model === 'default' || model === 'builtin' || model === 'builtin-digits') {
    if (modelPath || promptsPath) throw new Error('--model-path and --prompts-path go with --model deepfloyd-if.');
    return model === undefined || model === 'default' ? undefined : { model };
  }
  if (model !== 'deepfloyd-if') throw new Error(`Unknown --model "${model}". Choose default, builtin, builtin-digits or deepfloyd-if.`);
  if (!modelPath || !promptsPath) throw new Error('--model deepfloyd-if needs --model-path DIR and --prompts-path FILE (see docs/deepfloyd-if.md).');
  if (!fs.existsSync(modelPath) || !fs.statSync(modelPath).isDirectory()) {
    throw new Error(`--model-path ${modelPath} is not a folder: give the diffusers folder of IF stage I (see docs/deepfloyd-if.md).`);
  }
  if (!fs.existsSync(promptsPath) || !fs.statSync(promptsPath).isFile()) {
    throw new Error(`--prompts-path ${promptsPath} is not a file: give the prompt embeddings (safetensors; see docs/deepfloyd-if.md).`);
  }
  return { model, modelPath, promptsPath };
}

if (require.main === module) {
  runReportCli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
