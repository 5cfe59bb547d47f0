// npm run kernel:install: the kernelspec Jupyter front ends find, pointing at this checkout. With
// Debian's Jupyter present (apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient),
// `jupyter kernelspec list` shows it and `jupyter nbconvert --execute` runs a notebook with it.
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { decodePng } from '../../src/lib/display/png';
import { KernelClient } from '../../src/report/kernel-client';
import { tempDir } from '../helpers';

const ROOT = path.join(__dirname, '..', '..', '..');

function hasJupyter(): boolean {
  return spawnSync('jupyter', ['--version'], { encoding: 'utf8' }).status === 0;
}

describe('kernel:install', function () {
  this.timeout(300_000);
  const dataDir = tempDir('jupyter-data-');
  const env = { ...process.env, JUPYTER_DATA_DIR: dataDir };
  const kernelJson = path.join(dataDir, 'kernels', 'tslab-diffusion', 'kernel.json');

  before(() => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'install-kernel.js')], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it("writes a kernelspec naming this Node and this checkout's launcher by absolute path", () => {
    const spec = JSON.parse(fs.readFileSync(kernelJson, 'utf8')) as { argv: string[]; display_name: string };
    assert.deepEqual(spec.argv, [process.execPath, path.join(ROOT, 'kernel', 'tslab-diffusion', 'launch.js'), '{connection_file}']);
    assert.equal(spec.display_name, 'TypeScript (diffusion-ts)');
  });

  it('the installed launcher starts a kernel at the repository root from any folder', async () => {
    const spec = JSON.parse(fs.readFileSync(kernelJson, 'utf8')) as { argv: string[] };
    const kernel = await KernelClient.start({ launcher: spec.argv[1] });
    try {
      const r = await kernel.execute("console.log(require('fs').existsSync('src/lib/index.ts'))", 60_000);
      const text = r.iopub
        .filter((m) => m.header.msg_type === 'stream')
        .map((m) => String((m.content as { text?: string }).text))
        .join('');
      assert.equal(text, 'true\n');
    } finally {
      await kernel.shutdown();
    }
  });

  it("Debian's jupyter lists it and runs a notebook of the writeup with it (nbconvert --execute)", function () {
    if (!hasJupyter()) {
      console.warn('    Skipping: jupyter is absent (apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient).');
      this.skip();
    }
    const list = spawnSync('jupyter', ['kernelspec', 'list'], { env, encoding: 'utf8' });
    assert.match(list.stdout, /tslab-diffusion\s+\S*jupyter-data-/);
    const out = tempDir('nbconvert-');
    const r = spawnSync(
      'jupyter',
      [
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        '--ExecutePreprocessor.kernel_name=tslab-diffusion',
        '--ExecutePreprocessor.timeout=600',
        '--output-dir',
        out,
        path.join(ROOT, 'notebooks', 'a1-forward-and-denoising.ipynb'),
      ],
      { env, encoding: 'utf8', cwd: out },
    );
    assert.equal(r.status, 0, r.stderr);
    const nb = JSON.parse(fs.readFileSync(path.join(out, 'a1-forward-and-denoising.ipynb'), 'utf8')) as {
      cells: Array<{ outputs?: Array<{ output_type: string }> }>;
    };
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
    assert.ok(
      outputs.some((o) => o.output_type === 'display_data'),
      'the notebook showed its figures',
    );
    assert.ok(!outputs.some((o) => o.output_type === 'error'));
  });

  it("charts survive Debian's nbconvert HTML export (6.5 strips inline SVG): the PNG each chart carries is in the page", function () {
    if (!hasJupyter()) this.skip();
    const out = tempDir('nbconvert-chart-');
    const cell = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'tslab-diffusion', display_name: 'TypeScript (diffusion-ts)', language: 'typescript' } },
      cells: [
        cell(
          [
            "import { showChart, startNotebook } from './src/writeup/notebook/display';",
            "import { lossCurveSpec } from './src/lib/display/charts';",
            "const nb = await startNotebook('nbconvert-chart', { profile: 'smoke', seed: 0 });",
            'const points = Array.from({ length: 50 }, (_, i) => ({ step: i, loss: 1 / (1 + i) }));',
            "await showChart(nb, lossCurveSpec([{ name: 'train', points }]), { id: 'loss', section: 'B1', caption: 'Loss.', text: 'a loss curve' });",
          ].join('\n'),
        ),
      ],
    };
    const file = path.join(out, 'chart.ipynb');
    fs.writeFileSync(file, JSON.stringify(notebook));
    const run = (args: string[]) =>
      spawnSync('jupyter', ['nbconvert', ...args], { env: { ...env, DIFFUSION_OUTPUTS: path.join(out, 'outputs') }, encoding: 'utf8', cwd: out });
    const executed = run(['--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=300', '--output', 'executed', file]);
    assert.equal(executed.status, 0, executed.stderr);
    const html = run(['--to', 'html', path.join(out, 'executed.ipynb')]);
    assert.equal(html.status, 0, html.stderr);
    const page = fs.readFileSync(path.join(out, 'executed.html'), 'utf8');
    const img = /<img src="data:image\/png;base64,([^"]+)"\s*width=(\d+)/.exec(page);
    assert.ok(img, 'the exported page shows the chart as an image');
    const png = decodePng(Buffer.from(img[1], 'base64'));
    assert.equal(png.width, 2 * Number(img[2]), 'drawn at twice the size it is shown at');
    const dark = png.data.filter((v, i) => i % png.channels === 0 && v < 100).length;
    assert.ok(dark > 500, `the chart has lines and labels (${dark} dark pixels)`);
  });

  after(() => {
    spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'install-kernel.js'), '--uninstall'], { env });
    assert.ok(!fs.existsSync(kernelJson));
  });
});
