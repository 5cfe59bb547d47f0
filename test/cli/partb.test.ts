import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runPartB } from '../../src/cli/partb';
import { OUTPUTS_ENV_VAR } from '../../src/lib/io/outputs';
import { syntheticSplits, tempDir, useDefaultBackend } from '../helpers';

describe('partb (all of Part B from the command line)', function () {
  this.timeout(300000);
  before(useDefaultBackend);

  it('writes every figure and the summary, replacing the folder of an earlier run as a whole', async () => {
    const saved = process.env[OUTPUTS_ENV_VAR];
    const work = tempDir('partb');
    process.env[OUTPUTS_ENV_VAR] = path.join(work, 'outputs'); // runs, the judge and figures go here
    try {
      const outDir = path.join(work, 'outputs', 'partb', 'smoke');
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(path.join(outDir, 'b2-class-samples-epoch-99.png'), 'a figure of an older profile');
      await runPartB({ profile: 'smoke', seed: 0, data: syntheticSplits(64) });
      const files = fs.readdirSync(outDir).sort();
      assert.ok(!files.includes('b2-class-samples-epoch-99.png'), 'a stale figure survived');
      for (const f of ['summary.json', 'b1-noising.png', 'b1-out-of-distribution.png', 'b2-class-sampling.gif']) {
        assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
      }
      assert.ok(files.some((f) => /^b2-class-samples-epoch-\d+\.png$/.test(f)));
      const summary = JSON.parse(fs.readFileSync(path.join(outDir, 'summary.json'), 'utf8')) as { classConditionedAccuracy: number; perDigit: number[] };
      assert.equal(summary.perDigit.length, 10);
      assert.ok(summary.classConditionedAccuracy >= 0 && summary.classConditionedAccuracy <= 1);
      assert.deepEqual(fs.readdirSync(path.dirname(outDir)), ['smoke'], 'no partial or old folders left behind');
      await assert.rejects(runPartB({ profile: 'tiny', seed: 0, data: syntheticSplits(64) }), /tiny/);
      assert.deepEqual(fs.readdirSync(path.dirname(outDir)), ['smoke']);
    } finally {
      if (saved === undefined) delete process.env[OUTPUTS_ENV_VAR];
      else process.env[OUTPUTS_ENV_VAR] = saved;
    }
  });
});
