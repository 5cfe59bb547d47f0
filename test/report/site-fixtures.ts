/**
 * Two small hand-written executed notebooks (nbformat 4) for the renderer and site tests:
 * math, a captioned PNG figure, an uncaptioned image grid, short and long streams, a Vega-Lite
 * line chart, an error output, cell tags and a link between notebooks.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodePng } from '../../src/lib/display/png';
import type { ExecutedNotebook } from '../../src/report/nbformat';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** A w x h RGB gradient PNG, base64 as a kernel sends it. */
export function pngBase64(width: number, height: number, shade = 0): string {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = shade;
    }
  }
  return encodePng({ width, height, data }).toString('base64');
}

const longLog = Array.from({ length: 40 }, (_, i) => `epoch ${i + 1} loss ${(1 / (i + 1)).toFixed(4)}\n`).join('');

export function forwardNotebook(): ExecutedNotebook {
  return {
    nbformat: 4,
    metadata: {},
    cells: [
      {
        cell_type: 'markdown',
        metadata: {},
        source: [
          '# Part A: The Forward Process\n',
          '\n',
          'Noise is added as $x_t = \\sqrt{\\bar\\alpha_t}\\, x_0 + \\sqrt{1-\\bar\\alpha_t}\\,\\epsilon$.\n',
          '\n',
          '$$\n\\epsilon \\sim \\mathcal{N}(0, I)\n$$\n',
          '\n',
          '## 1.1 Forward Process\n',
          '\n',
          'See [Figure 1](#noisy-campanile) and the [training page](training.ipynb#2-2-training-the-unet).\n',
        ],
      },
      {
        cell_type: 'code',
        execution_count: 1,
        metadata: {},
        source: 'const shown = display.png(noisy(campanile, [250, 500, 750]));',
        outputs: [
          { output_type: 'stream', name: 'stdout', text: 'noising 3 images\n' },
          { output_type: 'stream', name: 'stdout', text: 'done\n' },
          {
            output_type: 'display_data',
            data: { 'image/png': pngBase64(12, 4), 'text/plain': '<image>' },
            metadata: { figure: { id: 'noisy-campanile', caption: 'Noisy Campanile at $t = 250, 500, 750$', section: 'A1.1' } },
          },
        ],
      },
      {
        cell_type: 'markdown',
        metadata: {},
        source: '## 1.2 Classical Denoising\n\nTwo blurred images side by side, without captions.',
      },
      {
        cell_type: 'code',
        execution_count: 2,
        metadata: {},
        source: 'for (const img of blurred) display.png(img);',
        outputs: [
          { output_type: 'display_data', data: { 'image/png': pngBase64(4, 4, 60) }, metadata: {} },
          { output_type: 'display_data', data: { 'image/png': pngBase64(4, 4, 200) }, metadata: {} },
          { output_type: 'stream', name: 'stderr', text: longLog },
        ],
      },
      {
        cell_type: 'code',
        execution_count: 3,
        metadata: { tags: ['remove-cell'] },
        source: 'secretSetup();',
        outputs: [{ output_type: 'stream', name: 'stdout', text: 'REMOVED OUTPUT\n' }],
      },
    ],
  };
}

export function trainingNotebook(): ExecutedNotebook {
  const losses = Array.from({ length: 20 }, (_, i) => ({ step: i * 10, loss: 1 / (1 + i) + 0.02 * Math.sin(i) }));
  return {
    nbformat: 4,
    metadata: {},
    cells: [
      {
        cell_type: 'markdown',
        metadata: {},
        source:
          '# Part B: Training\n\n## 2.2 Training the UNet\n\nThe loss is $\\|\\epsilon - \\epsilon_\\theta(x_t, t)\\|^2$; see the [forward process](forward.ipynb#1-1-forward-process).',
      },
      {
        cell_type: 'code',
        execution_count: 1,
        metadata: {},
        source: ['const spec = lossChart(history);\n', 'display.raw("application/vnd.vegalite.v5+json", spec);'],
        outputs: [
          {
            output_type: 'display_data',
            data: {
              'application/vnd.vegalite.v5+json': {
                $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
                width: 400,
                height: 200,
                data: { values: losses },
                mark: 'line',
                encoding: {
                  x: { field: 'step', type: 'quantitative', title: 'step' },
                  y: { field: 'loss', type: 'quantitative', title: 'loss' },
                },
              },
              'text/plain': '<chart>',
            },
            metadata: { figure: { id: 'loss-curve', caption: 'Training loss of the time-conditioned UNet' } },
          },
        ],
      },
      {
        cell_type: 'code',
        execution_count: 2,
        metadata: {},
        source: 'checkShapes()',
        outputs: [
          { output_type: 'execute_result', data: { 'text/plain': '[ 1, 28, 28 ]' }, metadata: {}, execution_count: 2 },
          {
            output_type: 'error',
            ename: 'RangeError',
            evalue: 'shape mismatch',
            traceback: ['\u001b[31mRangeError: shape mismatch\u001b[0m', '    at checkShapes (<cell>:1:1)'],
          },
        ],
      },
    ],
  };
}
