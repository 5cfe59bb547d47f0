import { strict as assert } from 'assert';
import { Writable } from 'stream';
import { ProgressEvent, createProgress, formatCompact, formatDuration, sequentialSteps } from '../src/lib/progress';

/** A stream that records what is written, optionally pretending to be a terminal. */
function fakeStream(isTTY = false): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  if (isTTY) Object.assign(stream, { isTTY: true });
  return { stream, text: () => chunks.join('') };
}

/** A clock in milliseconds that moves only when told. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

describe('progress', () => {
  it('formats numbers and durations compactly', () => {
    assert.equal(formatCompact(0.012345678), '0.01235');
    assert.equal(formatCompact(0.0123), '0.0123');
    assert.equal(formatCompact(1.23456), '1.235');
    assert.equal(formatCompact(42), '42');
    assert.equal(formatCompact(123456.7), '123457');
    assert.equal(formatCompact(0.0000123456), '0.00001235');
    assert.equal(formatCompact(1.5e-9), '1.5e-9');
    assert.equal(formatCompact(NaN), 'NaN');
    assert.equal(formatDuration(5), '0:05');
    assert.equal(formatDuration(125.4), '2:05');
    assert.equal(formatDuration(3725), '1:02:05');
  });

  it('lines mode prints one line per interval and a final line', () => {
    const { stream, text } = fakeStream();
    const clock = fakeClock();
    const p = createProgress({ phase: 'train', total: 100, stream, mode: 'lines', intervalSec: 5, now: clock.now });
    for (let i = 0; i < 100; i++) {
      clock.advance(120); // 12 s in all: lines at 5 s and 10 s
      p.tick(1, { loss: 1 / (i + 1), epoch: 1 });
    }
    p.finish();
    p.finish(); // a second finish prints nothing
    const lines = text().split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^train 42\/100 \(42%\) 8\.33 it\/s elapsed 0:05 eta 0:07 loss=0\.02381 epoch=1$/);
    assert.match(lines[1], /^train 84\/100 \(84%\) /);
    assert.equal(lines[2], 'train 100/100 (100%) 8.33 it/s done in 0:12 loss=0.01 epoch=1');
    assert.ok(!text().includes('\r'));
  });

  it('auto mode picks lines for a non-terminal and a bar for a terminal', () => {
    const plain = fakeStream(false);
    const p1 = createProgress({ phase: 'x', total: 1, stream: plain.stream, now: fakeClock().now });
    p1.tick();
    p1.finish();
    assert.ok(!plain.text().includes('\r'));
    const tty = fakeStream(true);
    const p2 = createProgress({ phase: 'x', total: 1, stream: tty.stream, now: fakeClock().now });
    p2.tick();
    p2.finish();
    assert.ok(tty.text().startsWith('\r'));
  });

  it('bar mode redraws one line with \\r at most ten times a second', () => {
    const { stream, text } = fakeStream(true);
    const clock = fakeClock();
    const p = createProgress({ phase: 'sample', total: 100, unit: 'step', stream, mode: 'bar', now: clock.now });
    for (let i = 0; i < 100; i++) {
      clock.advance(20); // 2 s in all
      p.tick(1, { loss: 0.0123 });
    }
    p.finish();
    const out = text();
    const draws = out.split('\r').length - 1;
    assert.ok(draws >= 20 && draws <= 22, `${draws} redraws`);
    assert.ok(out.endsWith('\n'));
    assert.equal(out.indexOf('\n'), out.length - 1, 'only the final newline');
    const last = out.split('\r').pop()!.trimEnd();
    assert.equal(last, `sample [${'#'.repeat(20)}] 100/100 50.0 step/s eta 0:00 loss=0.0123`);
    assert.match(out, /sample \[##########\.{10}\] 51\/100 50\.0 step\/s eta 0:01 loss=0\.0123/);
  });

  it('bar mode pads over a longer previous line', () => {
    const { stream, text } = fakeStream(true);
    const clock = fakeClock();
    const p = createProgress({ phase: 'p', total: 10, stream, mode: 'bar', now: clock.now });
    p.tick(1, { note: 'a long piece of text' });
    clock.advance(200);
    p.set(2, { note: '' });
    const [, first, second] = text().split('\r');
    assert.equal(second.length, first.length);
  });

  it('calls back at most every 0.2 s and always at finish', () => {
    const events: ProgressEvent[] = [];
    const clock = fakeClock();
    const p = createProgress({ phase: 'train', total: 1000, mode: 'silent', onProgress: (e) => events.push(e), now: clock.now });
    for (let i = 0; i < 1000; i++) {
      clock.advance(1); // 1 s in all
      p.tick(1, { loss: 0.5 });
    }
    p.finish({ loss: 0.25 });
    // the first tick, then one per 200 ms, then finish
    assert.ok(events.length >= 5 && events.length <= 7, `${events.length} callbacks`);
    const first = events[0];
    assert.equal(first.done, 1);
    assert.equal(first.etaSec, 999 * 0.001);
    const last = events[events.length - 1];
    assert.deepEqual(last, { phase: 'train', done: 1000, total: 1000, elapsedSec: 1, etaSec: 0, rate: 1000, info: { loss: 0.25 } });
  });

  it('a resumed run counts earlier items as done but not in the rate', () => {
    const clock = fakeClock();
    const events: ProgressEvent[] = [];
    const p = createProgress({ phase: 'train', total: 100, initial: 60, mode: 'silent', onProgress: (e) => events.push(e), now: clock.now });
    clock.advance(2000);
    p.tick(4);
    p.finish();
    const last = events[events.length - 1];
    assert.equal(last.done, 64);
    assert.equal(last.rate, 2);
  });

  it('silent mode writes nothing', () => {
    const { stream, text } = fakeStream(true);
    const clock = fakeClock();
    const p = createProgress({ phase: 'q', total: 3, stream, mode: 'silent', now: clock.now });
    p.tick();
    clock.advance(10_000);
    p.set(3);
    p.finish();
    assert.equal(text(), '');
  });

  it('reports an unknown eta before time has passed', () => {
    const events: ProgressEvent[] = [];
    const clock = fakeClock();
    const p = createProgress({ phase: 'q', total: 3, mode: 'silent', onProgress: (e) => events.push(e), now: clock.now });
    p.set(0);
    assert.equal(events[0].etaSec, null);
    assert.equal(events[0].rate, 0);
    assert.equal(events[0].info, undefined);
  });

  it('counts the steps of runs done one after another as one progress', () => {
    const seen: string[] = [];
    const [a, b, c] = sequentialSteps([2, 0, 3], (done, total) => seen.push(`${done}/${total}`));
    a(1);
    a(2);
    c(1);
    c(3);
    assert.deepEqual(seen, ['1/5', '2/5', '3/5', '5/5']);
    assert.equal(typeof b, 'function');
    sequentialSteps([1])[0](1); // no callback: nothing to report, no error
  });
});
