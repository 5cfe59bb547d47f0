import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CellProgress, executeNotebook, injectParameters, NotebookExecutionError, toOutputs } from '../../src/report/execute';
import { CodeCell, Notebook, Output, readNotebook, writeNotebookAtomic } from '../../src/report/nbformat';
import { KernelMessage } from '../../src/report/kernel-client';
import { RUN_INFO_MIME, RunInfo } from '../../src/writeup/contract';
import { parseRuntimeOptions } from '../../src/lib/runtime-options';
import { decodePng } from '../../src/lib/display/png';

// These tests start real tslab kernels (3-5 s each), so each notebook runs once and is checked by several cases.

function code(source: string, tags: string[] = []): CodeCell {
  return { cell_type: 'code', metadata: tags.length ? { tags } : {}, source, outputs: [], execution_count: null };
}

function notebook(...cells: Notebook['cells']): Notebook {
  return { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: cells.map((c, i) => ({ ...c, id: `cell-${i}` })) };
}

function streamText(outputs: Output[], name = 'stdout'): string {
  return outputs.map((o) => (o.output_type === 'stream' && o.name === name ? o.text : '')).join('');
}

/** True while a process with this id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The kernel's pid, printed by a notebook's first cell. */
function kernelPid(nb: Notebook): number {
  const pid = Number(streamText((nb.cells[0] as CodeCell).outputs).trim());
  assert.ok(pid > 0, 'the first cell printed the kernel pid');
  return pid;
}

describe('report/execute', function () {
  this.timeout(60000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'execute-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeNotebook(name: string, nb: Notebook): string {
    const file = path.join(dir, name);
    writeNotebookAtomic(file, nb);
    return file;
  }

  describe('a notebook that runs', () => {
    let source: Notebook;
    let executed: Notebook;
    const progress: CellProgress[] = [];

    before(async () => {
      source = notebook(
        { cell_type: 'markdown', metadata: {}, source: '# A small notebook' },
        code("let profile: 'default' | 'smoke' = 'default';\nlet seed = 1;", ['parameters']),
        code("import { Rng } from './src/lib/random';\nconst x = 20 + new Rng(seed).int(1);\nconsole.log('profile', profile);"),
        code("if (profile === 'default') console.log('default run');\nconsole.log('x is', x + 1);"),
        code(
          [
            "import * as tslab from 'tslab';",
            "import { lastWriteDisplayData } from 'tslab/dist/jupyter';",
            "const spec = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', mark: 'line', data: { values: [{ step: 0, loss: 1 }] } };",
            'tslab.display.png(new Uint8Array([137, 80, 78, 71]));',
            "tslab.display.raw('application/vnd.vegalite.v5+json', spec as unknown as string);",
            // A bundle of several MIME types goes through tslab's internal writer: JSON as an object, binary as base64.
            "const png = Buffer.from([137, 80, 78, 71]).toString('base64');",
            "lastWriteDisplayData({ data: { 'application/vnd.vegalite.v5+json': spec as unknown as string, 'image/png': png, 'text/plain': 'loss curve' }, metadata: {}, transient: {} }, false);",
          ].join('\n'),
        ),
      );
      const file = writeNotebook('runs.ipynb', source);
      executed = await executeNotebook(file, { timeoutSec: 30, parameters: { profile: 'smoke', seed: 5 }, onCell: (p) => progress.push(p) });
      assert.deepEqual(readNotebook(file), JSON.parse(JSON.stringify(source)), 'the notebook file itself is unchanged');
    });

    it('shares variables between cells, captures console.log as stream output and imports ./src/lib from the repository root', () => {
      const [, , , first, second] = executed.cells as CodeCell[];
      assert.equal(streamText(first.outputs), 'profile smoke\n');
      // Rng(seed).int(1) is 0, so x = 20.
      assert.equal(streamText(second.outputs), 'x is 21\n');
      const counts = executed.cells.flatMap((c) => (c.cell_type === 'code' ? [c.execution_count] : []));
      assert.deepEqual(counts, [1, 2, 3, 4, 5]);
      assert.equal((executed.metadata.language_info as { name: string }).name, 'typescript');
    });

    it('injects parameters after the parameters cell, keeping the declared types', () => {
      const injected = executed.cells[2] as CodeCell;
      assert.deepEqual(injected.metadata.tags, ['injected-parameters']);
      assert.match(String(injected.source), /profile = "smoke";\nseed = 5;/);
      // The same every time: identical builds write identical executed notebooks.
      const again = injectParameters(executed, { profile: 'smoke', seed: 5 });
      assert.deepEqual(again.cells[2], { ...injected, outputs: [], execution_count: null });
      // The 'default' branch did not run, and comparing with 'default' still type-checks.
      assert.doesNotMatch(streamText((executed.cells[4] as CodeCell).outputs), /default run/);
    });

    it('turns display calls into display_data outputs (PNG, vega-lite, a multi-MIME bundle)', () => {
      const outputs = (executed.cells[5] as CodeCell).outputs;
      assert.equal(outputs.length, 3);
      const [png, vega, bundle] = outputs.map((o) => {
        assert.equal(o.output_type, 'display_data');
        return o.output_type === 'display_data' ? o.data : {};
      });
      assert.deepEqual(png, { 'image/png': Buffer.from([137, 80, 78, 71]).toString('base64') });
      assert.equal((vega['application/vnd.vegalite.v5+json'] as { mark: string }).mark, 'line');
      assert.deepEqual(Object.keys(bundle).sort(), ['application/vnd.vegalite.v5+json', 'image/png', 'text/plain']);
      assert.deepEqual(bundle['application/vnd.vegalite.v5+json'], vega['application/vnd.vegalite.v5+json']);
      assert.equal(bundle['image/png'], png['image/png']);
    });

    it('reports progress for each code cell', () => {
      assert.deepEqual(
        progress.map((p) => `${p.state} ${p.index}/${p.total} @${p.cellIndex}`),
        [
          'start 0/5 @1',
          'done 0/5 @1',
          'start 1/5 @2',
          'done 1/5 @2',
          'start 2/5 @3',
          'done 2/5 @3',
          'start 3/5 @4',
          'done 3/5 @4',
          'start 4/5 @5',
          'done 4/5 @5',
        ],
      );
      assert.ok(progress.every((p) => p.elapsedSec >= 0 && p.notebookElapsedSec >= p.elapsedSec));
    });
  });

  describe('the notebook display helpers in a kernel', () => {
    let executed: Notebook;
    const running: Array<{ index: number; text: string; at: number }> = [];
    let progressCellDone = 0;

    before(async () => {
      const source = notebook(
        code(
          [
            "import { notebookProgress, showChart, showFigure, startNotebook } from './src/writeup/notebook/display';",
            "import { lossCurveSpec } from './src/lib/display/charts';",
            "import { imageGrid } from './src/lib/display/grid';",
            "const nb = await startNotebook('display-test', { profile: 'smoke', seed: 0 });",
          ].join('\n'),
        ),
        code(
          [
            "const progress = notebookProgress('training');",
            // Busy, never awaiting: the kernel's event loop is blocked for the whole cell.
            'const busy = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end) { /* work */ } };',
            'for (let done = 0; done <= 3; done++) {',
            "  progress({ phase: 'train', done, total: 3, elapsedSec: done, etaSec: null, rate: 1, info: { loss: 0.5 / (done + 1) } });",
            '  busy(400);',
            '}',
          ].join('\n'),
        ),
        code(
          [
            'const points = [{ step: 0, loss: 1 }, { step: 1, loss: 0.5 }, { step: 2, loss: 0.25 }];',
            "await showChart(nb, lossCurveSpec([{ name: 'train loss', points }], { smooth: 2 }), { id: 'loss', section: 'B1', caption: 'Loss.', text: 'last 0.25' });",
            'const images = { count: 2, width: 2, height: 2, channels: 1 as const, data: new Float32Array(8) };',
            "showFigure(nb, imageGrid(images, { cols: 2, colLabels: ['noisy', 'clean'] }), { id: 'grid', section: 'B1', caption: 'Two images.' });",
          ].join('\n'),
        ),
      );
      const outputs = path.join(dir, 'display-outputs');
      const file = writeNotebook('display.ipynb', source);
      executed = await executeNotebook(file, {
        timeoutSec: 60,
        env: { DIFFUSION_OUTPUTS: outputs },
        onCellProgress: (p) => running.push({ index: p.index, text: p.text, at: Date.now() }),
        onCell: (p) => {
          if (p.index === 1 && p.state === 'done') progressCellDone = Date.now();
        },
      });
    });

    it('startNotebook sends what the notebook runs on as data (no stderr to scrape)', () => {
      const run = (executed.cells[0] as CodeCell).outputs.find((o) => o.output_type === 'display_data' && RUN_INFO_MIME in o.data);
      assert.ok(run && run.output_type === 'display_data', 'a run-info output');
      const info = run.data[RUN_INFO_MIME] as RunInfo;
      assert.match(info.backend, /^wasm \(SIMD, \d threads?\) @tensorflow\/tfjs-backend-wasm 4\.22\.0$/);
      assert.deepEqual(info.runtime, parseRuntimeOptions());
      assert.deepEqual(run.metadata, { runInfo: true });
    });

    it("passes on a cell's progress while it runs, even a cell that never yields to the event loop", () => {
      assert.equal(running.length, 4, `progress lines: ${JSON.stringify(running)}`);
      assert.ok(running.every((p) => p.index === 1));
      // The first line came as the cell began, not in a burst at its end (4 x 400 ms of work).
      assert.ok(progressCellDone - running[0].at > 1000, `first line ${progressCellDone - running[0].at} ms before the cell ended`);
      assert.match(running[0].text, /^training: 0\/3 \(0%\)/);
      assert.match(running[running.length - 1].text, /^training: 3\/3 \(100%\) .*loss=0\.125/);
    });

    it('sends a chart as Vega-Lite and as a PNG drawn at twice its CSS size, with alt text from its description', () => {
      const [chart, grid] = (executed.cells[2] as CodeCell).outputs.map((o) => (o.output_type === 'display_data' ? o : assert.fail('display_data expected')));
      assert.deepEqual(Object.keys(chart.data).sort(), ['application/vnd.vegalite.v5+json', 'image/png', 'text/plain']);
      const png = decodePng(Buffer.from(String(chart.data['image/png']), 'base64'));
      const size = (chart.metadata as { 'image/png': { width: number; height: number } })['image/png'];
      assert.deepEqual([png.width, png.height], [2 * size.width, 2 * size.height]);
      assert.ok(size.width > 200 && size.height > 100, `${size.width}x${size.height}`);
      // Drawn, not blank: dark pixels of the line and the axis labels.
      const dark = png.data.filter((v, i) => i % png.channels === 0 && v < 100).length;
      assert.ok(dark > 500, `${dark} dark pixels`);
      const figure = (chart.metadata as { figure: { alt: string } }).figure;
      assert.match(figure.alt, /^Line chart of the training loss \(train loss\) against the optimiser step, log scale: .* last 0\.25$/);
      const gridAlt = (grid.metadata as { figure: { alt: string } }).figure.alt;
      assert.equal(gridAlt, '2 greyscale images of 2x2 pixels in 1 row of 2; columns: noisy, clean.');
    });
  });

  it('fails on the first failing cell with the notebook, the cell and the error text, and stops the kernel', async () => {
    const file = writeNotebook(
      'fails.ipynb',
      notebook(code('console.log(process.pid)'), code("throw new Error('the model exploded')"), code("console.log('never')")),
    );
    const err = await executeNotebook(file, { timeoutSec: 30 }).then(
      () => assert.fail('expected the notebook to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NotebookExecutionError);
    assert.match(err.message, /fails\.ipynb/);
    assert.match(err.message, /cell 2 of 3/);
    assert.match(err.message, /Error: the model exploded/);
    assert.equal(err.cellIndex, 1);
    assert.equal((err.partial.cells[2] as CodeCell).execution_count, null, 'later cells did not run');
    assert.equal(alive(kernelPid(err.partial)), false, 'the kernel process is gone');
  });

  it('kills a kernel whose cell hangs past the timeout', async () => {
    const file = writeNotebook('hangs.ipynb', notebook(code('console.log(process.pid)'), code('await new Promise(() => {});')));
    const start = Date.now();
    const err = await executeNotebook(file, { timeoutSec: 3 }).then(
      () => assert.fail('expected a timeout'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NotebookExecutionError);
    assert.match(err.message, /hangs\.ipynb failed in cell 2 of 2/);
    assert.match(err.message, /did not finish within 3 s; the kernel \(pid \d+\) was killed/);
    assert.ok(Date.now() - start < 20000);
    assert.equal(alive(kernelPid(err.partial)), false, 'the kernel process is gone');
  });

  describe('without a kernel', () => {
    it('refuses a parameter the parameters cell does not declare with let', () => {
      const nb = notebook(code('let seed = 0;\nconst profile = "default";', ['parameters']));
      assert.throws(() => injectParameters(nb, { profile: 'smoke' }, 'p.ipynb'), /p\.ipynb has no parameter "profile".*declares seed/);
      assert.throws(() => injectParameters(notebook(code('let seed = 0;')), { seed: 1 }, 'p.ipynb'), /no cell tagged "parameters"/);
      assert.throws(() => injectParameters(nb, { seed: Number.NaN }), /finite number/);
      // A second injection replaces the first instead of stacking.
      const twice = injectParameters(injectParameters(nb, { seed: 1 }), { seed: 2 });
      assert.equal(twice.cells.length, 2);
      assert.match(String(twice.cells[1].source), /seed = 2;/);
    });

    it('joins stream chunks and applies update_display_data by display id', () => {
      const msg = (msg_type: string, content: Record<string, unknown>): KernelMessage => ({
        header: { msg_id: 'm', msg_type, session: 's', username: 'u', date: '', version: '5.3' },
        parent_header: {},
        metadata: {},
        content,
      });
      const outputs = toOutputs([
        msg('status', { execution_state: 'busy' }),
        msg('stream', { name: 'stdout', text: 'a' }),
        msg('stream', { name: 'stdout', text: 'b\n' }),
        msg('display_data', { data: { 'text/plain': 'epoch 1' }, metadata: {}, transient: { display_id: 'p' } }),
        msg('stream', { name: 'stderr', text: 'warn\n' }),
        msg('update_display_data', { data: { 'text/plain': 'epoch 2' }, metadata: {}, transient: { display_id: 'p' } }),
      ]);
      assert.deepEqual(outputs, [
        { output_type: 'stream', name: 'stdout', text: 'ab\n' },
        { output_type: 'display_data', data: { 'text/plain': 'epoch 2' }, metadata: {} },
        { output_type: 'stream', name: 'stderr', text: 'warn\n' },
      ]);
    });
  });
});
