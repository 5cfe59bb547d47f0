// The library as another project gets it: `npm pack` (whose prepack builds dist/lib), `npm install`
// of the tarball into a new project, then the README's tsconfig and examples, type-checked with
// this project's TypeScript and the newest and oldest it supports against the installed
// declarations, and run, and a CommonJS and an ES module script
// that load the package by name. The install takes the tarballs from the npm cache that `npm ci`
// filled (--prefer-offline); the first run on a machine also fetches the registry's metadata of
// the ~20 packages (npm ci caches only the abbreviated form, npm install asks for the full one).
import assert from 'assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { decodePng } from '../../src/lib/display/png';
import { projectRoot } from '../../src/lib/versions';
import { tempDir } from '../helpers';

const ROOT = projectRoot();
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};
/** The project's TypeScript (node_modules/.bin/tsc may be tslab's older copy). */
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** The newest and the oldest TypeScript the README promises (devDependencies under other names). */
const OTHER_TSC = ['typescript-newest', 'typescript-oldest'].map((name) => ({
  version: (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version,
  tsc: path.join(ROOT, 'node_modules', name, 'bin', 'tsc'),
}));
const README_HEADING = '## Use the library from your own project';

/** Runs a command and returns its stdout; a failure throws with everything it printed. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed (exit ${e.status}):\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`, { cause: error });
  }
}

/** Runs a Node script; returns its exit status and what it printed. */
function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The README's "Use the library" section: its tsconfig.json (```json) and its examples (```ts), in order. */
function readmeSection(readme: string): { tsconfig: string; examples: string[] } {
  const start = readme.indexOf(README_HEADING);
  if (start < 0) throw new Error(`README.md has no "${README_HEADING}" section`);
  const end = readme.indexOf('\n## ', start + README_HEADING.length);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const tsconfig = /```json\n([\s\S]*?)```/.exec(section);
  const examples = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (!tsconfig || examples.length !== 2)
    throw new Error(`README.md's "${README_HEADING}" section should hold a \`\`\`json tsconfig and two \`\`\`ts examples`);
  return { tsconfig: tsconfig[1], examples };
}

/** The README's examples, in the order it gives them. */
const EXAMPLES = ['text-to-image.ts', 'denoise.ts'];

describe('the packed library, installed into another project', function () {
  this.timeout(300_000);
  let tmp = '';
  let project = '';
  let packed: { filename: string; size: number; files: Array<{ path: string }> };

  before(function () {
    tmp = fs.realpathSync(tempDir('diffusion-pack'));
    // --json: the file list on stdout; prepack's build output goes to stderr.
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT)) as Array<typeof packed>;
    packed = info;
    project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-diffusion-ts', version: '1.0.0', private: true }) + '\n');
    const typesNode = `@types/node@${PACKAGE.devDependencies['@types/node']}`;
    run('npm', ['install', path.join(tmp, packed.filename), typesNode, '--prefer-offline', '--no-audit', '--no-fund'], project);
    const { tsconfig, examples } = readmeSection(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const config = JSON.parse(tsconfig) as { files?: string[] };
    config.files = EXAMPLES;
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify(config, null, 2));
    EXAMPLES.forEach((name, i) => fs.writeFileSync(path.join(project, name), examples[i]));
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships the library build with declarations, its sources, the weights and images, and no tests or CLI build', function () {
    const files = new Set(packed.files.map((f) => f.path));
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/index.d.ts.map',
      'dist/lib/train/gradient-worker.js',
      'dist/lib/nn/unet-worker.js',
      'src/lib/index.ts',
      'src/lib/pretrained/weights/builtin.safetensors',
      'src/lib/pretrained/weights/emoji-stage1.safetensors',
      'src/lib/pretrained/weights/emoji-stage2.safetensors',
      'src/lib/pretrained/weights/SHA256SUMS',
      'docs/credits.md',
    ]) {
      assert.ok(files.has(f), `${f} is missing from ${packed.filename}`);
    }
    const stray = [...files].filter((f) => /^(dist\/(src|test)|src\/(writeup|report|cli|web)|test|notebooks|outputs)\//.test(f) || f.endsWith('.tgz'));
    assert.deepEqual(stray, []);
  });

  it('loads with require() and with import, from its own dist/lib, exporting only the package root', function () {
    const cjs = [
      "const dl = require('diffusion-ts');",
      "let deep = 'loaded';",
      "try { require('diffusion-ts/dist/lib/random'); } catch (e) { deep = e.code; }",
      'const s = dl.cosineSchedule(1000);',
      'console.log(JSON.stringify({',
      "  entry: require.resolve('diffusion-ts'), version: require('diffusion-ts/package.json').version, deep,",
      "  T: s.alphasCumprod.length, abar: [s.alphasCumprod[0], s.alphasCumprod[999]], testHook: 'resetBackendForTests' in dl,",
      '}));',
    ].join('\n');
    fs.writeFileSync(path.join(project, 'check.cjs'), cjs);
    const out = node(['check.cjs'], project);
    assert.deepEqual([out.status, out.stderr], [0, '']);
    const got = JSON.parse(out.stdout) as { entry: string; version: string; deep: string; T: number; abar: number[]; testHook: boolean };
    assert.equal(got.entry, path.join(project, 'node_modules', 'diffusion-ts', 'dist', 'lib', 'index.js'));
    assert.equal(got.version, PACKAGE.version);
    assert.equal(got.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    assert.equal(got.T, 1000);
    assert.ok(got.abar[0] > 0.99 && got.abar[1] < 1e-3, `abar_0 ${got.abar[0]}, abar_999 ${got.abar[1]}`);
    assert.equal(got.testHook, false);

    // Node finds the CommonJS build's named exports (tsc's __exportStar included) for ES modules.
    fs.writeFileSync(
      path.join(project, 'check.mjs'),
      "import { forward, loadBuiltinDigitsModel, tensorGrid, Rng, textToImage } from 'diffusion-ts';\n" +
        'console.log([forward, loadBuiltinDigitsModel, tensorGrid, Rng, textToImage].map((f) => typeof f).join());\n',
    );
    const esm = node(['check.mjs'], project);
    assert.deepEqual([esm.status, esm.stderr], [0, '']);
    assert.equal(esm.stdout.trim(), 'function,function,function,function,function');
  });

  it("type-checks and compiles the README's examples with its tsconfig, under this project's TypeScript and the newest and oldest it names", function () {
    // Node 16+ resolution (package.json "exports" with "types"); the tests below run the output.
    run(process.execPath, [TSC, '-p', '.'], project);
    for (const { version, tsc } of OTHER_TSC) {
      try {
        run(process.execPath, [tsc, '-p', '.', '--noEmit'], project);
      } catch (error) {
        throw new Error(`TypeScript ${version}: ${(error as Error).message}`, { cause: error });
      }
    }
    // The older resolution ("types" in package.json), checking every declaration file: the only
    // errors allowed are TensorFlow.js's own (it needs skipLibCheck), none in diffusion-ts's.
    let errors = '';
    try {
      run(process.execPath, [TSC, '-p', '.', '--noEmit', '--module', 'commonjs', '--moduleResolution', 'node10', '--skipLibCheck', 'false'], project);
    } catch (error) {
      errors = (error as Error).message;
    }
    const ours = errors.split('\n').filter((line) => /error TS\d+/.test(line) && !line.startsWith('node_modules/@tensorflow/'));
    assert.deepEqual(ours, []);
  });

  /** Runs one compiled example on the wasm backend and returns what it printed. */
  function runExample(name: string): { stdout: string; stderr: string } {
    const compiled = path.join(project, 'out', name.replace(/\.ts$/, '.js'));
    assert.ok(fs.existsSync(compiled), `${compiled} is missing: the example did not compile (see the test above)`);
    const out = node([compiled], project, { ...process.env, DIFFUSION_BACKEND: 'wasm' });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stderr, /^\[diffusion\] backend: wasm \(SIMD/m);
    return out;
  }

  it("runs the README's text-to-image example: a 64x64 colour PNG of the prompt", function () {
    runExample('text-to-image.ts');
    const png = decodePng(fs.readFileSync(path.join(project, 'smiling-face.png')));
    assert.deepEqual([png.width, png.height, png.channels], [64, 64, 3]);
    // A picture, not a flat or noisy field: the yellow face fills most of it (mean red and green high, blue low).
    const mean = [0, 1, 2].map((c) => png.data.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / (64 * 64 * 255));
    assert.ok(mean[0] > 0.5 && mean[1] > 0.45 && mean[2] < mean[1] - 0.15, `mean RGB ${mean.map((v) => v.toFixed(2)).join(', ')}`);
  });

  it("runs the README's digits example: the forward process and one denoising step of the built-in digits model", function () {
    const out = runExample('denoise.ts');
    const match = /^t = 500: mean squared error ([\d.]+) noisy, ([\d.]+) denoised$/m.exec(out.stdout);
    assert.ok(match, `unexpected output: ${out.stdout}`);
    const [noisy, denoised] = [Number(match[1]), Number(match[2])];
    // abar_500 of the cosine schedule is about 0.49: the noisy image is far off, one step of the model close.
    assert.ok(noisy > 0.3 && denoised < noisy / 3, `noisy ${noisy}, denoised ${denoised}`);
    const png = decodePng(fs.readFileSync(path.join(project, 'denoised.png')));
    assert.equal(png.channels, 3);
    assert.ok(png.width > 28 * 2 && png.height >= 28, `grid ${png.width}x${png.height}`);
  });

  it('a model loaded before initBackend() is an error that says to call it', function () {
    fs.writeFileSync(path.join(project, 'no-backend.cjs'), "require('diffusion-ts').loadBuiltinDigitsModel();\n");
    const out = node(['no-backend.cjs'], project);
    assert.equal(out.status, 1);
    assert.match(out.stderr, /new UNet\(\) needs a TensorFlow\.js backend, and none is set up yet: call `await initBackend\(\)`/);
  });

  it('has a diffusion command that says the installed package is the library only', function () {
    const out = node([path.join('node_modules', '.bin', 'diffusion'), '--help'], project);
    assert.deepEqual([out.status, out.stdout], [1, '']);
    assert.match(out.stderr, /library only[\s\S]*runs from a clone/);
  });
});
