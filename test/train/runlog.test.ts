import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { appendJsonLine, readJsonLines, truncateJsonLines } from '../../src/lib/train/runlog';

interface Rec {
  step: number;
  loss: number;
}

describe('runlog', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlog-test-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('appends JSON lines, creating folders, and reads them back', () => {
    const file = path.join(dir, 'runs', 'a', 'log.jsonl');
    appendJsonLine(file, { step: 1, loss: 0.5 });
    appendJsonLine(file, { step: 2, loss: 0.25 });
    assert.equal(fs.readFileSync(file, 'utf8'), '{"step":1,"loss":0.5}\n{"step":2,"loss":0.25}\n');
    assert.deepEqual(readJsonLines<Rec>(file), [
      { step: 1, loss: 0.5 },
      { step: 2, loss: 0.25 },
    ]);
  });

  it('reads a missing file as no records', () => {
    assert.deepEqual(readJsonLines(path.join(dir, 'none.jsonl')), []);
  });

  it('ignores a partial trailing line from a killed process', () => {
    const file = path.join(dir, 'log.jsonl');
    fs.writeFileSync(file, '{"step":1,"loss":0.5}\n{"step":2,"lo');
    assert.deepEqual(readJsonLines<Rec>(file), [{ step: 1, loss: 0.5 }]);
    // Even one that happens to parse: without its newline it was not finished.
    fs.writeFileSync(file, '{"step":1,"loss":0.5}\n12');
    assert.deepEqual(readJsonLines<Rec>(file), [{ step: 1, loss: 0.5 }]);
  });

  it('appending after a killed write drops the partial line', () => {
    const file = path.join(dir, 'log.jsonl');
    fs.writeFileSync(file, '{"step":1,"loss":0.5}\n{"step":2,"lo');
    appendJsonLine(file, { step: 2, loss: 0.3 });
    assert.equal(fs.readFileSync(file, 'utf8'), '{"step":1,"loss":0.5}\n{"step":2,"loss":0.3}\n');
    fs.writeFileSync(file, '{"ste');
    appendJsonLine(file, { step: 1, loss: 1 });
    assert.deepEqual(readJsonLines<Rec>(file), [{ step: 1, loss: 1 }]);
  });

  it('throws on a corrupt line in the middle, naming the file and line', () => {
    const file = path.join(dir, 'log.jsonl');
    fs.writeFileSync(file, '{"step":1}\n{"step":2}\n{"step":3,,}\n{"step":4}\n');
    assert.throws(
      () => readJsonLines(file),
      (err: Error) => {
        assert.ok(err.message.includes(file));
        assert.match(err.message, /corrupt at line 3/);
        assert.match(err.message, /delete/);
        return true;
      },
    );
  });

  it('truncate keeps only passing records, atomically', () => {
    const file = path.join(dir, 'log.jsonl');
    for (let step = 1; step <= 5; step++) appendJsonLine(file, { step, loss: 1 / step });
    fs.appendFileSync(file, '{"step":6,'); // partial line from a crash
    const removed = truncateJsonLines<Rec>(file, (r) => r.step <= 3);
    assert.equal(removed, 2);
    assert.deepEqual(
      readJsonLines<Rec>(file).map((r) => r.step),
      [1, 2, 3],
    );
    assert.ok(fs.readFileSync(file, 'utf8').endsWith('}\n'));
    assert.deepEqual(fs.readdirSync(dir), ['log.jsonl'], 'no temp file left');
    appendJsonLine(file, { step: 4, loss: 0.2 });
    assert.deepEqual(
      readJsonLines<Rec>(file).map((r) => r.step),
      [1, 2, 3, 4],
    );
  });

  it('truncate of a missing file does nothing', () => {
    const file = path.join(dir, 'none.jsonl');
    assert.equal(
      truncateJsonLines(file, () => true),
      0,
    );
    assert.ok(!fs.existsSync(file));
  });
});
