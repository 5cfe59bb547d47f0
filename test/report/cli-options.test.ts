// The report's options that need no notebook to run: parameters checked against the notebooks'
// parameters cells, render-only builds, the hide-input tag.
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildReport } from '../../src/report/build';
import { parseReportConfig, readReportConfig } from '../../src/report/config';
import { renderNotebook } from '../../src/report/render';
import { tempDir } from '../helpers';

const DIFFUSION = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
/** `diffusion report ARGS` (what npm run report runs). */
const report = (...args: string[]) => spawnSync(process.execPath, [DIFFUSION, 'report', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('report options', function () {
  this.timeout(60_000);

  it('-p sets a declared parameter (seed and profile too); an undeclared, unread or malformed one is refused before anything runs', () => {
    const out = path.join(tempDir('report-p-'), 'site');
    const unknown = report('-p', 'learningrate=3', '--out', out);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /No notebook declares a parameter "learningrate" in its parameters cell\. Declared: .*retrain/);
    const malformed = report('-p', 'retrain', '--out', out);
    assert.match(malformed.stderr, /-p takes name=value \(e\.g\. -p retrain=true\), got "retrain"/);
    // Nothing needs to run to see which seed a build uses: --no-execute names its cache folder.
    const seed = report('-p', 'seed=3', '--no-execute', '--out', out);
    assert.match(seed.stderr, /--no-execute: a0-sampling has no executed copy in .*quick-seed3\//);
    const profile = report('-p', 'profile=smoke', '-p', 'seed=3', '--no-execute', '--out', out);
    assert.match(profile.stderr, /smoke-seed3\//);
    const disagree = report('--seed', '2', '-p', 'seed=3', '--out', out);
    assert.match(disagree.stderr, /--seed 2 and -p seed=3 disagree: give one of them/);
    const hex = report('-p', 'seed=0x2', '--out', out);
    assert.match(hex.stderr, /--seed must be a non-negative integer, got "0x2"/);
    // A parameter only skipped notebooks read would change nothing: refused, naming who reads it.
    const skipped = report('-p', 'retrain=true', '--only', 'a2-iterative-denoising-and-cfg', '--out', out);
    assert.match(
      skipped.stderr,
      /None of the notebooks to execute \(--only a2-iterative-denoising-and-cfg\) declares "retrain"; .*b1-single-step-denoiser.* add it with --only, or drop the parameter/,
    );
    const noExecute = report('-p', 'retrain=true', '--no-execute', '--out', out);
    assert.match(noExecute.stderr, /--no-execute runs no notebook, so "retrain" would change nothing/);
    assert.equal(fs.existsSync(out), false, 'no site was written');
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    // The report is `diffusion report`, and the server `diffusion serve`: one command.
    for (const args of [
      [DIFFUSION, '--version'],
      [DIFFUSION, 'report', '--version'],
    ]) {
      const version = spawnSync(process.execPath, args, { encoding: 'utf8' });
      assert.equal(version.status, 0);
      assert.match(version.stdout, new RegExp(`^diffusion-ts ${pkg.version.replace(/\./g, '\\.')}\nnode v\\d+[\\s\\S]*@tensorflow/tfjs-core \\d`));
    }
    assert.match(
      spawnSync(process.execPath, [DIFFUSION, 'serve', '--help'], { encoding: 'utf8' }).stdout,
      /^Usage: diffusion serve \[options\][\s\S]*--port <n>/,
    );
    const help = report('--help');
    for (const flag of ['--param', '--config', '--no-execute', '--pdf-only', '--trust-notebook-html', '--only', '--force'])
      assert.ok(help.stdout.includes(flag), flag);
  });

  it('numbers and model paths are checked before anything runs, negative numbers included', () => {
    const out = path.join(tempDir('report-numbers-'), 'site');
    const cases: Array<[string[], RegExp]> = [
      [['--seed', '-1'], /--seed must be a non-negative integer, got "-1"/],
      [['--seed', '0x2'], /--seed must be a non-negative integer, got "0x2"/],
      [['--cell-timeout', 'abc'], /--cell-timeout must be a positive number of seconds, got "abc"/],
      [['--cell-timeout', '0'], /--cell-timeout must be a positive number of seconds, got "0"/],
      [['--cell-timeout', '-5'], /--cell-timeout must be a positive number of seconds, got "-5"/],
      [['--model', 'deepfloyd-if', '--model-path', path.join(out, 'none'), '--prompts-path', __filename], /--model-path .*none is not a folder/],
      [['--model', 'deepfloyd-if', '--model-path', __dirname, '--prompts-path', path.join(out, 'none')], /--prompts-path .*none is not a file/],
      [['--config', __dirname], /--config .* is a folder: give a JSON file like report\.config\.json/],
    ];
    for (const [args, message] of cases) {
      const r = report(...args, '--out', out);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /\[report\] .*executing/, 'nothing ran');
    }
    assert.equal(fs.existsSync(out), false, 'no site was written');
  });

  it('--no-execute renders from executed copies only, and names a notebook that has none', async () => {
    const root = tempDir('report-noexec-');
    await assert.rejects(
      buildReport({ profile: 'smoke', seed: 0, siteDir: path.join(root, 'site'), cacheDir: path.join(root, 'executed'), noExecute: true, log: () => {} }),
      /--no-execute: a0-sampling has no executed copy in .*executed\/; build once without --no-execute first/,
    );
  });

  it('refuses an --out folder of other files before any notebook runs, and deletes nothing', async () => {
    const root = tempDir('report-out-');
    const out = path.join(root, 'x');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep'), 'k\n');
    const lines: string[] = [];
    await assert.rejects(
      buildReport({ profile: 'smoke', seed: 0, siteDir: out, cacheDir: path.join(root, 'executed'), log: (l) => lines.push(l) }),
      /--out .*x already holds files that are not a site built by this report \(keep\)/,
    );
    assert.deepEqual(fs.readdirSync(out), ['keep']);
    assert.deepEqual(
      lines.filter((l) => l.includes('executing')),
      [],
      'no notebook ran',
    );
  });

  it("hide-input keeps a cell's code collapsed even when it also says show-input", async () => {
    const nb = (tags: string[]) => ({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{ cell_type: 'code', metadata: { tags }, execution_count: 1, source: 'x = 1', outputs: [] }],
    });
    assert.match((await renderNotebook(nb(['show-input']) as never, { name: 'a' })).html, /<details class="code" open>/);
    assert.doesNotMatch((await renderNotebook(nb(['show-input', 'hide-input']) as never, { name: 'b' })).html, /<details class="code" open>/);
  });

  describe('report.config.json', () => {
    it('the committed config lists every notebook in notebooks/ once', () => {
      const config = readReportConfig();
      const listed = config.parts.flatMap((p) => p.notebooks).sort();
      const present = fs
        .readdirSync('notebooks')
        .filter((f) => f.endsWith('.ipynb'))
        .map((f) => f.replace(/\.ipynb$/, ''))
        .sort();
      assert.deepEqual(listed, present);
      assert.equal(config.title, 'Diffusion models in TypeScript');
    });

    it('a mistake is an error naming the field and the fix', () => {
      const part = { title: 'P', notebooks: ['a'] };
      const cases: Array<[unknown, RegExp]> = [
        [{ parts: [part] }, /x\.json: title must be a non-empty string, got undefined/],
        [{ title: 'T', parts: [] }, /parts must be a non-empty list/],
        [{ title: 'T', parts: [part], subtitle: 'x' }, /the config\.subtitle is not a known field \(known: title, intro, parts\)/],
        [{ title: 'T', parts: [{ title: 'P', notebooks: ['a.ipynb'] }] }, /parts\[0\]\.notebooks\[0\] must be a notebook name without folder or \.ipynb/],
        [{ title: 'T', parts: [part, { title: 'Q', notebooks: ['b', 'a'] }] }, /parts\[1\]\.notebooks\[1\] repeats "a", already in parts\[0\]\.notebooks\[0\]/],
        [{ title: 'T', parts: [{ title: 'P', notebook: ['a'] }] }, /parts\[0\]\.notebook is not a known field/],
      ];
      for (const [raw, message] of cases) assert.throws(() => parseReportConfig(raw, 'x.json'), message);
      const dir = tempDir('report-config-');
      fs.writeFileSync(path.join(dir, 'bad.json'), '{"title": "T",');
      assert.throws(() => readReportConfig(path.join(dir, 'bad.json')), /bad\.json is not valid JSON .* restore it with git checkout/);
      assert.throws(() => readReportConfig(path.join(dir, 'none.json')), /none\.json not found: .* pass --config FILE/);
    });

    describe('a build from another config', () => {
      const root = tempDir('report-config-build-');
      const saved = process.env.DIFFUSION_OUTPUTS;
      before(() => {
        process.env.DIFFUSION_OUTPUTS = path.join(root, 'outputs');
      });
      after(() => {
        if (saved === undefined) delete process.env.DIFFUSION_OUTPUTS;
        else process.env.DIFFUSION_OUTPUTS = saved;
      });

      it('uses its title, parts and notebooks, and names a listed notebook that does not exist', async () => {
        const notebooks = path.join(root, 'notebooks');
        fs.mkdirSync(notebooks);
        const nb = (heading: string) =>
          JSON.stringify({
            nbformat: 4,
            nbformat_minor: 5,
            metadata: {},
            cells: [
              { cell_type: 'markdown', metadata: {}, source: `# ${heading}` },
              { cell_type: 'code', metadata: { tags: ['parameters'] }, execution_count: null, outputs: [], source: "let profile = 'quick';\nlet seed = 0;" },
              { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: "console.log('ran');" },
            ],
          });
        fs.writeFileSync(path.join(notebooks, 'first.ipynb'), nb('The first page'));
        fs.writeFileSync(path.join(notebooks, 'extra.ipynb'), nb('Not in the config'));
        const configFile = path.join(root, 'my.config.json');
        fs.writeFileSync(
          configFile,
          JSON.stringify({
            title: 'My own writeup',
            intro: 'Built from **another** config.',
            parts: [{ title: 'The only part', notebooks: ['first'] }],
          }),
        );
        const lines: string[] = [];
        const siteDir = path.join(root, 'site');
        const options = {
          profile: 'smoke',
          seed: 0,
          notebooksDir: notebooks,
          siteDir,
          cacheDir: path.join(root, 'executed'),
          log: (l: string) => lines.push(l),
        };
        const result = await buildReport({ ...options, config: configFile });
        assert.deepEqual(result.executed, ['first']);
        assert.ok(
          lines.some((l) => l.includes('not in') && l.includes('extra.ipynb')),
          'a notebook left out is named',
        );
        const index = fs.readFileSync(path.join(siteDir, 'index.html'), 'utf8');
        assert.match(index, /<h1>My own writeup<\/h1>/);
        assert.match(index, /Built from <strong>another<\/strong> config\./);
        assert.match(index, /The only part/);
        assert.ok(fs.existsSync(path.join(siteDir, 'first.html')));
        assert.ok(!fs.existsSync(path.join(siteDir, 'extra.html')));

        // --only with a notebook that never ran at this profile and seed: left out, with a warning that says how to build it.
        fs.writeFileSync(configFile, JSON.stringify({ title: 'T', parts: [{ title: 'P', notebooks: ['first', 'extra'] }] }));
        lines.length = 0;
        const partial = await buildReport({ ...options, config: configFile, only: ['first'] });
        assert.deepEqual([partial.executed, partial.cached, partial.missing], [[], ['first'], ['extra']]);
        assert.ok(
          lines.some(
            (l) =>
              l.startsWith('[report] warning: the site has 1 of 2 notebooks. extra never ran with profile smoke and seed 0') &&
              l.includes('`npm run report -- --profile smoke --seed 0 --only extra`'),
          ),
          lines.join('\n'),
        );

        fs.writeFileSync(configFile, JSON.stringify({ title: 'T', parts: [{ title: 'P', notebooks: ['first', 'missing'] }] }));
        await assert.rejects(buildReport({ ...options, config: configFile }), /my\.config\.json lists notebook "missing", but .*missing\.ipynb does not exist/);
      });
    });
  });
});
