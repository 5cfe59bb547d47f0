import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  NamedTensor,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  readSafetensorsHeader,
  float32ToF16Bits,
  toFloat32,
  writeSafetensorsFile,
} from '../../src/lib/io/safetensors';

/** One tensor of every dtype, with awkward sizes so that alignment matters. */
function everyDType(): Record<string, NamedTensor> {
  return {
    f32: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2.5, 3.25, 0, -0, 1e-30]) },
    f16: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc100, 0x7bff]) },
    bf16: { dtype: 'BF16', shape: [1], data: new Uint16Array([0x3f80]) },
    i32: { dtype: 'I32', shape: [3], data: new Int32Array([-1, 0, 2147483647]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 123456789012345n]) },
    u8: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) },
    f64: { dtype: 'F64', shape: [1, 1], data: new Float64Array([Math.PI]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([7]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

function expectCorrupt(fn: () => unknown, pattern: RegExp, source = 'model.safetensors'): void {
  assert.throws(fn, (err: Error) => {
    assert.match(err.message, new RegExp(source.replace('.', '\\.')));
    assert.match(err.message, /truncated or corrupt/);
    assert.match(err.message, /Delete it/);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Builds a file by hand: 8-byte LE length, JSON text, data bytes. */
function handBuilt(json: string, data: number[]): Buffer {
  const header = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.from(data)]);
}

describe('safetensors', () => {
  describe('encode/decode', () => {
    it('round-trips every dtype with metadata', () => {
      const tensors = everyDType();
      const metadata = { format: 'pt', step: '1200' };
      const out = decodeSafetensors(encodeSafetensors(tensors, metadata));
      assert.deepEqual(out.metadata, metadata);
      assert.deepEqual(Object.keys(out.tensors).sort(), Object.keys(tensors).sort());
      for (const [name, t] of Object.entries(tensors)) {
        const got = out.tensors[name];
        assert.equal(got.dtype, t.dtype, name);
        assert.deepEqual(got.shape, t.shape, name);
        assert.equal(got.data.constructor, t.data.constructor, name);
        assert.deepEqual(Array.from(got.data as ArrayLike<number | bigint>), Array.from(t.data as ArrayLike<number | bigint>), name);
      }
      assert.ok(Object.is(out.tensors.f32.data[4], -0), 'negative zero survives');
    });

    it('gives no metadata when none was written', () => {
      const out = decodeSafetensors(encodeSafetensors({ a: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) } }));
      assert.deepEqual(out.metadata, {});
    });

    it('is deterministic whatever the insertion order', () => {
      const a = everyDType();
      const b: Record<string, NamedTensor> = {};
      for (const name of Object.keys(a).reverse()) b[name] = a[name];
      const bytesA = encodeSafetensors(a, { x: '1', y: '2' });
      const bytesB = encodeSafetensors(b, { y: '2', x: '1' });
      assert.ok(bytesA.equals(bytesB));
      assert.ok(bytesA.equals(encodeSafetensors(a, { x: '1', y: '2' })));
    });

    it('pads the header with spaces to a multiple of 8 and aligns every tensor', () => {
      const buf = encodeSafetensors(everyDType(), { m: 'v' });
      const n = Number(buf.readBigUInt64LE(0));
      assert.equal(n % 8, 0);
      const text = buf.subarray(8, 8 + n).toString('utf8');
      assert.match(text, /^\{.*\} *$/);
      const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
      const size: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1 };
      for (const [name, e] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        assert.equal((8 + n + e.data_offsets[0]) % size[e.dtype], 0, `${name} aligned`);
      }
    });

    it('writes the byte layout of the spec exactly', () => {
      const json = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' + '"b":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}}';
      const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
      const expected = handBuilt(padded, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 7]); // 1.0f, -2.0f, 7
      const actual = encodeSafetensors(
        {
          b: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) },
          a: { dtype: 'F32', shape: [2], data: new Float32Array([1, -2]) },
        },
        { k: 'v' },
      );
      assert.deepEqual([...actual], [...expected]);
    });

    it('decodes a hand-built file with keys in any order and an unpadded header', () => {
      const json =
        '{"w":{"dtype":"I32","shape":[1,2],"data_offsets":[2,10]},' + '"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"__metadata__":{"note":"hand"}}';
      const buf = handBuilt(json, [0x00, 0x3c, 5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
      const out = decodeSafetensors(buf);
      assert.deepEqual(out.metadata, { note: 'hand' });
      assert.deepEqual(out.tensors.w.shape, [1, 2]);
      assert.deepEqual([...(out.tensors.w.data as Int32Array)], [5, -1]);
      assert.deepEqual([...toFloat32(out.tensors.h)], [1]);
    });

    it('returns aligned copies independent of the input buffer', () => {
      // Header of odd length, so the I32 data sits at an odd byte offset in the input buffer.
      const buf = handBuilt('{"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}', [1, 0, 0, 0]);
      assert.equal((8 + buf.readUInt32LE(0)) % 4 !== 0, true);
      const x = decodeSafetensors(buf).tensors.x.data as Int32Array;
      assert.equal(x.byteOffset, 0);
      assert.equal(x.buffer.byteLength, 4);
      buf.fill(0xff);
      assert.equal(x[0], 1);
    });

    it('rejects bad input to encode with a clear message', () => {
      assert.throws(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), /shape \[3\] \(3 elements\) but 2/);
      assert.throws(() => encodeSafetensors({ a: { dtype: 'F16', shape: [1], data: new Float32Array(1) } }), /needs a Uint16Array/);
      assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), /reserved/);
    });
  });

  describe('corruption', () => {
    const source = 'model.safetensors';
    const valid = encodeSafetensors(everyDType(), { step: '3' });
    const n = Number(valid.readBigUInt64LE(0));

    it('rejects a buffer shorter than 8 bytes', () => {
      for (const len of [0, 1, 7]) {
        expectCorrupt(() => decodeSafetensors(valid.subarray(0, len), { source }), /8-byte header length/);
      }
    });

    it('rejects a valid file truncated at any of several points', () => {
      const cuts = [8, 9, 8 + Math.floor(n / 2), 8 + n, 8 + n + 1, valid.length - 8, valid.length - 1];
      for (const cut of cuts) {
        expectCorrupt(() => decodeSafetensors(valid.subarray(0, cut), { source }), /past the end|not valid UTF-8 JSON|outside the .*data buffer|cover only/);
      }
    });

    it('rejects a flipped header length', () => {
      const huge = Buffer.from(valid);
      huge.writeBigUInt64LE(BigInt(n) << 40n, 0); // e.g. byte order mixed up
      expectCorrupt(() => decodeSafetensors(huge, { source }), /header length is \d+ bytes, past the end/);
      const short = Buffer.from(valid);
      short.writeBigUInt64LE(BigInt(n - 8), 0);
      expectCorrupt(() => decodeSafetensors(short, { source }), /not valid UTF-8 JSON/);
    });

    it('rejects bad JSON and an unknown dtype, naming the tensor', () => {
      expectCorrupt(() => decodeSafetensors(handBuilt('{"a":', []), { source }), /not valid UTF-8 JSON/);
      expectCorrupt(() => decodeSafetensors(handBuilt('[1,2]', []), { source }), /not a JSON object/);
      expectCorrupt(
        () => decodeSafetensors(handBuilt('{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', [0]), { source }),
        /tensor "w" has unknown dtype "Q4"/,
      );
    });

    it('rejects offsets out of range, overlapping, or not matching dtype x shape', () => {
      expectCorrupt(
        () => decodeSafetensors(handBuilt('{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', [1, 2]), { source }),
        /tensor "w" has data_offsets \[0, 4\] outside the 2-byte data buffer/,
      );
      expectCorrupt(
        () => decodeSafetensors(handBuilt('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]), { source }),
        /tensor "w" \(F32, shape \[2\]\) needs 8 bytes/,
      );
      expectCorrupt(
        () =>
          decodeSafetensors(
            handBuilt('{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[3],"data_offsets":[2,5]}}', [1, 2, 3, 4, 5]),
            { source },
          ),
        /tensor "b" overlaps tensor "a"/,
      );
      expectCorrupt(
        () => decodeSafetensors(handBuilt('{"w":{"dtype":"U8","shape":[1],"data_offsets":[2,1]}}', [1, 2]), { source }),
        /tensor "w" has data_offsets \[2, 1\]/,
      );
    });

    it('rejects a buffer not fully covered by tensors', () => {
      expectCorrupt(
        () => decodeSafetensors(handBuilt('{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', [1, 2, 3]), { source }),
        /3 bytes but the tensors cover only 2/,
      );
      expectCorrupt(
        () => decodeSafetensors(handBuilt('{"w":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', [1, 2, 3]), { source }),
        /bytes 0\.\.1 of the data buffer belong to no tensor/,
      );
    });

    it('without a source, still says what is wrong', () => {
      assert.throws(() => decodeSafetensors(Buffer.alloc(3)), /safetensors data: it is only 3 bytes long/);
    });
  });

  describe('toFloat32', () => {
    const f16 = (bits: number[]) => toFloat32({ dtype: 'F16', shape: [bits.length], data: new Uint16Array(bits) });
    const bf16 = (bits: number[]) => toFloat32({ dtype: 'BF16', shape: [bits.length], data: new Uint16Array(bits) });

    it('converts known F16 bit patterns exactly', () => {
      const out = f16([0x3c00, 0xc100, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x0000, 0x8000, 0x3555]);
      assert.equal(out[0], 1);
      assert.equal(out[1], -2.5);
      assert.equal(out[2], 65504);
      assert.equal(out[3], 2 ** -24); // smallest subnormal
      assert.equal(out[4], 1023 * 2 ** -24); // largest subnormal
      assert.equal(out[5], 2 ** -14); // smallest normal
      assert.equal(out[6], Infinity);
      assert.equal(out[7], -Infinity);
      assert.ok(Object.is(out[8], 0));
      assert.ok(Object.is(out[9], -0));
      assert.equal(out[10], 0.333251953125);
    });

    it('converts F16 NaN to NaN, keeping sign and payload', () => {
      const out = f16([0x7e00, 0xfc01]);
      assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]));
      const bits = new Uint32Array(out.buffer);
      assert.equal(bits[0], 0x7fc00000);
      assert.equal(bits[1], 0xff802000);
    });

    it('matches the arithmetic definition for every finite F16 value', () => {
      const all = Array.from({ length: 65536 }, (_, i) => i);
      const out = f16(all);
      for (const h of all) {
        const sign = h & 0x8000 ? -1 : 1;
        const exp = (h >> 10) & 0x1f;
        const mant = h & 0x3ff;
        if (exp === 0x1f) continue;
        const value = exp === 0 ? sign * mant * 2 ** -24 : sign * (1 + mant / 1024) * 2 ** (exp - 15);
        if (out[h] !== value) assert.fail(`f16 0x${h.toString(16)}: got ${out[h]}, expected ${value}`);
      }
    });

    it('converts known BF16 bit patterns exactly', () => {
      const out = bf16([0x3f80, 0xc020, 0x7f80, 0xff80, 0x0001, 0x7fc0, 0x8000]);
      assert.equal(out[0], 1);
      assert.equal(out[1], -2.5);
      assert.equal(out[2], Infinity);
      assert.equal(out[3], -Infinity);
      assert.equal(out[4], 2 ** -133); // smallest bf16 subnormal
      assert.ok(Number.isNaN(out[5]));
      assert.ok(Object.is(out[6], -0));
    });

    it('converts the other dtypes to new arrays', () => {
      const src = new Float32Array([1.5, -2]);
      const f32 = toFloat32({ dtype: 'F32', shape: [2], data: src });
      assert.deepEqual([...f32], [1.5, -2]);
      assert.notEqual(f32, src);
      assert.deepEqual([...toFloat32({ dtype: 'F64', shape: [2], data: new Float64Array([0.1, 3]) })], [Math.fround(0.1), 3]);
      assert.deepEqual([...toFloat32({ dtype: 'I32', shape: [2], data: new Int32Array([-7, 9]) })], [-7, 9]);
      assert.deepEqual([...toFloat32({ dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) })], [0, 255]);
      assert.deepEqual([...toFloat32({ dtype: 'I64', shape: [1], data: new BigInt64Array([-5n]) })], [-5]);
    });
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-test-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('writes atomically, leaving no temp file, and reads back', () => {
      const file = path.join(dir, 'sub', 'ckpt.safetensors');
      writeSafetensorsFile(file, everyDType(), { step: '10' });
      writeSafetensorsFile(file, everyDType(), { step: '20' }); // overwrite
      assert.deepEqual(fs.readdirSync(path.dirname(file)), ['ckpt.safetensors']);
      const out = readSafetensorsFile(file);
      assert.deepEqual(out.metadata, { step: '20' });
      assert.deepEqual([...(out.tensors.u8.data as Uint8Array)], [0, 1, 127, 128, 255]);
    });

    it('names the file when it is truncated', () => {
      const file = path.join(dir, 'cut.safetensors');
      fs.writeFileSync(file, encodeSafetensors(everyDType()).subarray(0, 100));
      expectCorrupt(() => readSafetensorsFile(file), /./, file);
      expectCorrupt(() => readSafetensorsHeader(file), /./, file);
    });

    it('reads only the header, with offsets into the file', () => {
      const file = path.join(dir, 'h.safetensors');
      const tensors = everyDType();
      writeSafetensorsFile(file, tensors, { a: 'b' });
      const header = readSafetensorsHeader(file);
      assert.deepEqual(header.metadata, { a: 'b' });
      assert.deepEqual(Object.keys(header.tensors).sort(), Object.keys(tensors).sort());
      const bytes = fs.readFileSync(file);
      const info = header.tensors.f64;
      assert.equal(info.dtype, 'F64');
      assert.deepEqual(info.shape, [1, 1]);
      const start = header.dataStart + info.dataOffsets[0];
      assert.equal(bytes.readDoubleLE(start), Math.PI);
    });
  });
});

describe('float32ToF16Bits', () => {
  it('gives back every half-precision value exactly (all 63,488 non-NaN patterns, through toFloat32)', () => {
    const patterns = new Uint16Array(65536).map((_, i) => i);
    const values = toFloat32({ dtype: 'F16', shape: [65536], data: patterns });
    const back = float32ToF16Bits(values);
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) assert.ok(Number.isNaN(toFloat32({ dtype: 'F16', shape: [1], data: new Uint16Array([back[h]]) })[0]));
      else assert.equal(back[h], h, `pattern 0x${h.toString(16)}`);
    }
  });

  it('rounds to nearest, ties to even, overflows to infinity and underflows to (signed) zero', () => {
    const f16 = (x: number) => float32ToF16Bits(new Float32Array([x]))[0];
    assert.equal(f16(1 + 2 ** -11), 0x3c00); // halfway between 1 and the next half: even (1)
    assert.equal(f16(1 + 3 * 2 ** -11), 0x3c02); // halfway, rounds up to even
    assert.equal(f16(1 + 2 ** -11 + 2 ** -20), 0x3c01); // above halfway
    assert.equal(f16(65504), 0x7bff);
    assert.equal(f16(65520), 0x7c00); // rounds past the largest half
    assert.equal(f16(-1e9), 0xfc00);
    assert.equal(f16(2 ** -24), 0x0001); // smallest subnormal
    assert.equal(f16(2 ** -25), 0x0000); // tie -> even (zero)
    assert.equal(f16(1.5 * 2 ** -25), 0x0001);
    assert.equal(f16(-1e-10), 0x8000);
    assert.equal(f16(2 ** -14 - 2 ** -25), 0x0400); // the largest subnormal rounds up into the normals
  });
});

describe('decodeSafetensors on a plain Uint8Array (as a browser fetches it)', () => {
  it('decodes the same tensors as from a Buffer', () => {
    const buf = encodeSafetensors(everyDType(), { a: 'b' });
    const copy = new Uint8Array(buf.length + 3).subarray(3);
    copy.set(buf);
    const fromBytes = decodeSafetensors(copy);
    const fromBuffer = decodeSafetensors(buf);
    assert.deepEqual(fromBytes.metadata, fromBuffer.metadata);
    for (const name of Object.keys(fromBuffer.tensors)) assert.deepEqual(fromBytes.tensors[name], fromBuffer.tensors[name]);
  });
});
