import assert from 'node:assert/strict';
import { createHash } from 'crypto';
import { IdRegistry } from '../../src/report/ids';
import { notebookLinkToPage } from '../../src/report/markdown';
import type { ExecutedNotebook } from '../../src/report/nbformat';
import { cleanTerminalText, imageSize, renderNotebook } from '../../src/report/render';
import { forwardNotebook, pngBase64, trainingNotebook } from './site-fixtures';

describe('report/render', () => {
  it('renders markdown with KaTeX math and heading ids', async () => {
    const page = await renderNotebook(forwardNotebook(), { name: 'forward' });
    assert.equal(page.title, 'Part A: The Forward Process');
    assert.match(page.html, /<span class="katex">/);
    assert.match(page.html, /class="katex-display"/, '$$...$$ becomes display math');
    assert.deepEqual(
      page.headings.map((h) => [h.level, h.id]),
      [
        [1, 'part-a-the-forward-process'],
        [2, '1-1-forward-process'],
        [2, '1-2-classical-denoising'],
      ],
    );
    assert.match(page.html, /<h2 id="1-1-forward-process">/);
    assert.match(page.html, /href="training\.html#2-2-training-the-unet"/, 'links to notebooks point at their pages');
  });

  it('turns a display_data with figure metadata into a numbered figure with its file', async () => {
    const page = await renderNotebook(forwardNotebook(), { name: 'forward', firstFigureNumber: 4 });
    const figure = page.files.find((f) => f.id === 'noisy-campanile');
    assert.ok(figure);
    assert.equal(figure.anchor, 'noisy-campanile');
    assert.deepEqual(figure.metadata, { section: 'A1.1' }, 'other figure metadata is passed through');
    assert.equal(figure.path, 'figures/forward/noisy-campanile.png');
    assert.equal(figure.number, 4);
    assert.equal(figure.mime, 'image/png');
    assert.deepEqual([figure.width, figure.height], [12, 4]);
    assert.equal(figure.sha256, createHash('sha256').update(figure.bytes).digest('hex'));
    assert.equal(page.figureCount, 1);
    assert.match(page.html, /<figure class="figure figure-image" id="noisy-campanile">/);
    assert.match(page.html, /<span class="figure-number">Figure 4:<\/span> Noisy Campanile at <span class="katex">/);
    // Small images are scaled up by a whole factor and drawn crisp; the link opens the file.
    assert.match(
      page.html,
      /<a class="zoom" href="figures\/forward\/noisy-campanile\.png"><img class="pixelated" src="figures\/forward\/noisy-campanile\.png" alt="Noisy Campanile at \$t = 250, 500, 750\$" width="840" height="280">/,
    );
    assert.doesNotMatch(page.html, /base64/, 'images are files, not inline data');
  });

  it('marks a picture wider than the text column with its width, so it may use the window instead of being shrunk', async () => {
    const image = (width: number, id: string) => ({
      output_type: 'display_data' as const,
      data: { 'image/png': pngBase64(width, 10), 'text/plain': '<image>' },
      metadata: { figure: { id, caption: id } },
    });
    const nb = {
      nbformat: 4,
      metadata: {},
      cells: [{ cell_type: 'code', execution_count: 1, metadata: {}, source: 'show()', outputs: [image(1100, 'wide')] }],
    };
    const page = await renderNotebook(nb as unknown as ExecutedNotebook, { name: 'wide' });
    assert.match(page.html, /<figure class="figure figure-image output-wide" id="wide" style="--wide: 1100px">/);
    assert.match(page.html, /width="1100" height="10"/, 'at its own size');
    const narrow = await renderNotebook({ ...nb, cells: [{ ...nb.cells[0], outputs: [image(300, 'narrow')] }] } as unknown as ExecutedNotebook, {
      name: 'narrow',
    });
    assert.doesNotMatch(narrow.html, /output-wide/);
  });

  it('groups consecutive images into a grid, joins stream chunks and collapses long streams', async () => {
    const page = await renderNotebook(forwardNotebook(), { name: 'forward' });
    const uncaptioned = page.files.filter((f) => f.number === null).map((f) => f.path);
    assert.deepEqual(uncaptioned, ['figures/forward/cell4-output1.png', 'figures/forward/cell4-output2.png']);
    assert.match(page.html, /<div class="output-grid">\n<div class="output-image">/);
    assert.match(page.html, /<pre class="stream stdout" tabindex="0">noising 3 images\ndone<\/pre>/);
    assert.match(page.html, /<details class="stream-long"><summary>Output \(40 lines\)<\/summary><pre class="stream stderr" tabindex="0">epoch 1 loss/);
  });

  it('collapses code, honours remove-cell and shows errors visibly', async () => {
    const forward = await renderNotebook(forwardNotebook(), { name: 'forward' });
    assert.match(forward.html, /<details class="code"><summary>Code \[1\]<\/summary><pre tabindex="0"><code class="language-typescript">const shown/);
    assert.doesNotMatch(forward.html, /secretSetup|REMOVED OUTPUT/);
    const training = await renderNotebook(trainingNotebook(), { name: 'training' });
    assert.match(
      training.html,
      /<div class="error-output" role="alert"><p><strong>RangeError<\/strong>: shape mismatch<\/p><pre tabindex="0">RangeError: shape mismatch\n {4}at checkShapes \(&lt;cell&gt;:1:1\)<\/pre><\/div>/,
    );
    assert.match(training.html, /<pre class="result" tabindex="0">\[ 1, 28, 28 \]<\/pre>/);
  });

  it('renders a Vega-Lite spec to inline SVG at build time, and writes it as a file too', async () => {
    const page = await renderNotebook(trainingNotebook(), { name: 'training' });
    const chart = page.files.find((f) => f.id === 'loss-curve');
    assert.ok(chart);
    assert.equal(chart.path, 'figures/training/loss-curve.svg');
    const svg = chart.bytes.toString('utf8');
    assert.match(svg, /^<svg [^>]*width="\d+"/);
    assert.match(svg, /<g class="mark-line role-mark[^"]*"[^>]*><path [^>]*d="M0,0L20,/, 'the line itself is drawn');
    assert.match(
      page.html,
      /<figure class="figure figure-chart" id="loss-curve"><div class="chart"><svg role="img" aria-label="Training loss of the time-conditioned UNet" /,
    );
    const again = await renderNotebook(trainingNotebook(), { name: 'training' });
    assert.equal(again.files[0].sha256, chart.sha256, 'chart SVG is deterministic');
  });

  it('falls back to cell metadata for figure captions', async () => {
    const nb: ExecutedNotebook = {
      nbformat: 4,
      cells: [
        {
          cell_type: 'code',
          source: 'show()',
          metadata: {
            figures: [
              { id: 'first', caption: 'One' },
              { id: 'second', caption: 'Two' },
            ],
          },
          outputs: [
            { output_type: 'display_data', data: { 'image/png': pngBase64(2, 2) }, metadata: {} },
            { output_type: 'display_data', data: { 'image/png': pngBase64(2, 2, 9) }, metadata: {} },
          ],
        },
      ],
    };
    const page = await renderNotebook(nb, { name: 'nb' });
    assert.deepEqual(
      page.files.map((f) => [f.id, f.number, f.caption]),
      [
        ['first', 1, 'One'],
        ['second', 2, 'Two'],
      ],
    );
    assert.deepEqual(page.files[0].metadata, {}, 'no extra metadata');
  });

  it('keeps element ids unique across the site and rejects malformed content, naming the place', async () => {
    const ids = new IdRegistry();
    await renderNotebook(forwardNotebook(), { name: 'forward', ids });
    // The same figure id in a later notebook: same file name in its own folder, prefixed element id.
    const again = await renderNotebook(forwardNotebook(), { name: 'again', ids });
    const figure = again.files.find((f) => f.id === 'noisy-campanile')!;
    assert.deepEqual([figure.path, figure.anchor], ['figures/again/noisy-campanile.png', 'again-noisy-campanile']);
    assert.match(again.html, /<figure class="figure figure-image" id="again-noisy-campanile">/);
    assert.deepEqual(
      again.headings.map((h) => h.id),
      ['part-a-the-forward-process-2', '1-1-forward-process-2', '1-2-classical-denoising-2'],
    );
    const twice = forwardNotebook();
    twice.cells[3].metadata = { figures: [{ id: 'noisy-campanile' }] };
    await assert.rejects(renderNotebook(twice, { name: 'twice' }), /Notebook twice, cell 4: figure id "noisy-campanile" is already used by cell 2/);
    const broken: ExecutedNotebook = {
      nbformat: 4,
      cells: [{ cell_type: 'code', source: 'x', outputs: [{ output_type: 'display_data', data: { 'image/png': 'bm90IGEgcG5n' } }] }],
    };
    await assert.rejects(renderNotebook(broken, { name: 'broken' }), /Notebook broken, cell 1, output 1: image\/png data is not a readable png image/);
    await assert.rejects(renderNotebook(forwardNotebook(), { name: '../escape' }), /not usable as a file name/);
  });

  it('cleans terminal text and reads image sizes', () => {
    assert.equal(cleanTerminalText('\u001b[32mok\u001b[0m\n10%\r50%\r100%\n'), 'ok\n100%\n');
    assert.deepEqual(imageSize(Buffer.from(pngBase64(7, 3), 'base64'), 'image/png'), { width: 7, height: 3 });
    assert.equal(imageSize(Buffer.from('nope'), 'image/png'), null);
    assert.equal(notebookLinkToPage('a.ipynb#x'), 'a.html#x');
    assert.equal(notebookLinkToPage('https://example.org/a.ipynb'), 'https://example.org/a.ipynb');
  });
});
