import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { executeNotebook } from '../../src/report/execute';
import { tempDir } from '../helpers';

/**
 * tslab fires its zeromq sends without waiting, and zeromq 6 rejects a send while another is in
 * flight, which used to kill the kernel when a cell flooded display updates just before the next
 * cell started. The launcher queues the sends; this notebook must run through.
 */
describe('kernel: many display updates in a row', function () {
  this.timeout(120000);

  it('survives a burst of display updates right before the next cell', async () => {
    const code = (src: string) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: [src] });
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        code("import * as tslab from 'tslab';"),
        code("const d = tslab.newDisplay();\nfor (let i = 0; i < 3000; i++) d.text('update ' + i);"),
        code("console.log('still alive');"),
      ],
    };
    const file = path.join(tempDir('sends'), 'burst.ipynb');
    fs.writeFileSync(file, JSON.stringify(nb));
    const out = await executeNotebook(file, { timeoutSec: 60 });
    const last = out.cells[2];
    assert.ok(last.cell_type === 'code' && last.outputs.some((o) => o.output_type === 'stream' && String(o.text).includes('still alive')));
  });
});
