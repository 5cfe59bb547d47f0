import * as fs from 'fs';
import { writeFileAtomic } from './atomic';

/**
 * The safetensors format: an 8-byte little-endian header length N, then N bytes of UTF-8 JSON
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {key: value}}), then the
 * byte buffer holding every tensor, little-endian. Offsets are relative to the start of that buffer.
 */

export type SafeDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'U8' | 'I8' | 'F64';

/**
 * A tensor as stored in a file. F16 and BF16 data are the raw 16-bit patterns (use toFloat32 to
 * get numbers); the other dtypes use the matching typed array.
 */
export interface NamedTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array | Int8Array | Float64Array | BigInt64Array | Uint16Array;
}

/** Where one tensor lies in a file, as read from its header. */
export interface TensorInfo {
  dtype: SafeDType;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data buffer. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Record<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Byte position in the file where the data buffer starts (8 + header length). */
  dataStart: number;
}

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers larger than this; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Record<SafeDType, number> = {
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  F16: 2,
  BF16: 2,
  U8: 1,
  I8: 1,
};

type TypedArrayCtor =
  | Float32ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint16ArrayConstructor;

const DTYPE_ARRAY: Record<SafeDType, TypedArrayCtor> = {
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
  I8: Int8Array,
  F64: Float64Array,
};

function isDType(x: unknown): x is SafeDType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, x);
}

// Typed arrays use the host byte order; the format is little-endian. Every platform Node runs on
// today is little-endian, so we check once instead of swapping bytes everywhere.
// Checked with a typed array (not os.endianness) so that decoding also runs in a browser.
function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('safetensors: this machine is big-endian, which is not supported; run on a little-endian machine (x86-64 or ARM).');
  }
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function describeSource(source: string | undefined): string {
  return source === undefined ? 'safetensors data' : `safetensors file "${source}"`;
}

function corrupt(source: string | undefined, problem: string): Error {
  const what = describeSource(source);
  const fix =
    source === undefined
      ? 'The bytes are truncated or corrupt; produce them again.'
      : 'The file is truncated or corrupt (for example a run killed while saving, or an incomplete download). ' + 'Delete it and retrain or download it again.';
  return new Error(`${what}: ${problem}. ${fix}`);
}

/**
 * Order in which tensors are laid out: larger elements first, then by name. Because the data
 * buffer starts on a multiple of 8, this keeps every tensor aligned to its element size without
 * padding between tensors (the reference implementation orders them the same way).
 */
function layoutOrder(names: string[], dtypeOf: (name: string) => SafeDType): string[] {
  return [...names].sort((a, b) => {
    const bySize = DTYPE_BYTES[dtypeOf(b)] - DTYPE_BYTES[dtypeOf(a)];
    if (bySize !== 0) return bySize;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function checkTensorForEncoding(name: string, t: NamedTensor): void {
  if (name === METADATA_KEY) {
    throw new Error(`encodeSafetensors: "${METADATA_KEY}" is reserved for metadata and cannot name a tensor; rename the tensor.`);
  }
  if (!isDType(t.dtype)) {
    throw new Error(`encodeSafetensors: tensor "${name}" has unknown dtype ${String(t.dtype)}; use one of ${Object.keys(DTYPE_BYTES).join(', ')}.`);
  }
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`encodeSafetensors: tensor "${name}" has invalid shape [${t.shape.join(', ')}]; dimensions must be non-negative integers.`);
  }
  const ctor = DTYPE_ARRAY[t.dtype];
  if (!(t.data instanceof ctor)) {
    throw new Error(
      `encodeSafetensors: tensor "${name}" has dtype ${t.dtype}, which needs a ${ctor.name}, but its data is a ${t.data.constructor.name}; convert the data first.`,
    );
  }
  const n = elementCount(t.shape);
  if (t.data.length !== n) {
    throw new Error(
      `encodeSafetensors: tensor "${name}" has shape [${t.shape.join(', ')}] (${n} elements) but ${t.data.length} data elements; make the shape and data agree.`,
    );
  }
}

/**
 * Serialises tensors and optional string metadata. The output is deterministic: tensors are laid
 * out by element size then name, metadata keys are sorted, and the JSON header is padded with
 * spaces to a multiple of 8 bytes so that the data buffer (and every tensor in it) is aligned.
 */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Buffer {
  assertLittleEndianHost();
  const names = Object.keys(tensors);
  for (const name of names) checkTensorForEncoding(name, tensors[name]);
  const order = layoutOrder(names, (n) => tensors[n].dtype);

  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const sorted: Record<string, string> = {};
    for (const key of Object.keys(metadata).sort()) {
      if (typeof metadata[key] !== 'string') {
        throw new Error(
          `encodeSafetensors: metadata "${key}" is a ${typeof metadata[key]}; safetensors metadata values must be strings (use JSON.stringify for structured values).`,
        );
      }
      sorted[key] = metadata[key];
    }
    header[METADATA_KEY] = sorted;
  }
  let offset = 0;
  for (const name of order) {
    const t = tensors[name];
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }

  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + headerLength + offset, 0x20); // spaces pad the header
  out.writeBigUInt64LE(BigInt(headerLength), 0);
  json.copy(out, 8);
  let pos = 8 + headerLength;
  for (const name of order) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/** Reads and checks the 8-byte header length; returns it as a number. */
function readHeaderLength(prefix: Uint8Array, totalBytes: number, source: string | undefined): number {
  if (totalBytes < 8) {
    throw corrupt(source, `it is only ${totalBytes} bytes long, but a safetensors file starts with an 8-byte header length`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(totalBytes - 8)) {
    throw corrupt(source, `the header length is ${n} bytes, past the end of the file (only ${totalBytes - 8} bytes follow the length)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw corrupt(source, `the header length is ${n} bytes, more than the ${MAX_HEADER_BYTES}-byte limit`);
  }
  return Number(n);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Parses the JSON header and checks every entry against the size of the data buffer: known
 * dtype, valid shape, offsets within the buffer, sized dtype x shape, no overlaps, no gaps.
 */
function parseHeader(
  headerBytes: Uint8Array,
  bufferBytes: number,
  source: string | undefined,
): {
  tensors: Record<string, TensorInfo>;
  metadata: Record<string, string>;
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw corrupt(source, `the header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw corrupt(source, 'the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const tensors: Record<string, TensorInfo> = {};
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(entry)) throw corrupt(source, `"${METADATA_KEY}" is not an object of strings`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw corrupt(source, `metadata "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isPlainObject(entry)) throw corrupt(source, `tensor "${name}" has no {dtype, shape, data_offsets} entry`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isDType(dtype)) {
      throw corrupt(source, `tensor "${name}" has unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw corrupt(source, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw corrupt(source, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > bufferBytes) {
      throw corrupt(source, `tensor "${name}" has data_offsets [${begin}, ${end}] outside the ${bufferBytes}-byte data buffer`);
    }
    const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw corrupt(
        source,
        `tensor "${name}" (${dtype}, shape [${(shape as number[]).join(', ')}]) needs ${expected} bytes but its data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    tensors[name] = { dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] };
  }

  // Walk the tensors in buffer order: each must start where the previous one ended.
  const byOffset = Object.entries(tensors).sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let covered = 0;
  let previous = '';
  for (const [name, info] of byOffset) {
    const [begin] = info.dataOffsets;
    if (begin < covered) throw corrupt(source, `tensor "${name}" overlaps tensor "${previous}" (it starts at byte ${begin}, before byte ${covered})`);
    if (begin > covered) throw corrupt(source, `bytes ${covered}..${begin} of the data buffer belong to no tensor (before tensor "${name}")`);
    covered = info.dataOffsets[1];
    previous = name;
  }
  if (covered !== bufferBytes) {
    throw corrupt(source, `the data buffer is ${bufferBytes} bytes but the tensors cover only ${covered}`);
  }
  return { tensors, metadata };
}

/** Copies [begin, end) into a fresh, aligned typed array of the dtype. */
function copyOut(bytes: Uint8Array, info: TensorInfo): NamedTensor {
  const [begin, end] = info.dataOffsets;
  const ab = new ArrayBuffer(end - begin);
  new Uint8Array(ab).set(bytes.subarray(begin, end));
  const data = new DTYPE_ARRAY[info.dtype](ab);
  return { dtype: info.dtype, shape: [...info.shape], data };
}

/**
 * Parses a whole safetensors buffer (a Node Buffer or any Uint8Array, e.g. a fetched file in a
 * browser), checking it fully. The returned arrays are copies: aligned, and independent of `buf`.
 */
export function decodeSafetensors(
  buf: Uint8Array,
  opts?: { source?: string },
): {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
} {
  assertLittleEndianHost();
  const source = opts?.source;
  const n = readHeaderLength(buf, buf.length, source);
  const dataStart = 8 + n;
  const data = buf.subarray(dataStart);
  const header = parseHeader(buf.subarray(8, dataStart), data.length, source);
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, info] of Object.entries(header.tensors)) tensors[name] = copyOut(data, info);
  return { tensors, metadata: header.metadata };
}

export function readSafetensorsFile(path: string): {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
} {
  return decodeSafetensors(fs.readFileSync(path), { source: path });
}

/** Writes atomically: readers see the old file or the complete new one, never a partial one. */
export function writeSafetensorsFile(path: string, tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads only the header of a file (not the tensor data), checked against the file's size, so
 * that tensors can later be read one at a time from `dataStart + dataOffsets`.
 */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const prefix = Buffer.alloc(8);
    fs.readSync(fd, prefix, 0, 8, 0);
    const n = readHeaderLength(prefix, size, path);
    const headerBytes = Buffer.alloc(n);
    if (fs.readSync(fd, headerBytes, 0, n, 8) !== n) {
      throw corrupt(path, `the header is cut short (expected ${n} bytes)`);
    }
    const header = parseHeader(headerBytes, size - 8 - n, path);
    return { ...header, dataStart: 8 + n };
  } finally {
    fs.closeSync(fd);
  }
}

// ---- conversion to float32 ----

let f16Table: Uint32Array | null = null;

/** float32 bit patterns of all 65536 float16 values, built once on first use. */
function f16ToF32Table(): Uint32Array {
  if (f16Table !== null) return f16Table;
  const table = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    let bits: number;
    if (exp === 0x1f) {
      bits = sign | 0x7f800000 | (mant << 13); // inf, or NaN keeping its payload
    } else if (exp !== 0) {
      bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    } else if (mant === 0) {
      bits = sign; // signed zero
    } else {
      // Subnormal half: shift the mantissa up until its leading 1 becomes the implicit bit.
      let e = 127 - 15 + 1;
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        e--;
      }
      bits = sign | (e << 23) | ((mant & 0x3ff) << 13);
    }
    table[h] = bits >>> 0;
  }
  f16Table = table;
  return table;
}

/**
 * Converts a tensor's data to a new Float32Array. F16 and BF16 conversions are exact (every
 * value, including subnormals, infinities and NaN payloads, maps to the same float32 value).
 * F64, I32 and I64 round to the nearest float32.
 */
export function toFloat32(t: NamedTensor): Float32Array {
  const n = t.data.length;
  switch (t.dtype) {
    case 'F16': {
      const table = f16ToF32Table();
      const src = t.data as Uint16Array;
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = table[src[i]];
      return new Float32Array(bits.buffer);
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const src = t.data as Uint16Array;
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64': {
      const src = t.data as BigInt64Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'F32':
    case 'F64':
    case 'I32':
    case 'U8':
    case 'I8':
      return new Float32Array(t.data as Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array);
    default:
      throw new Error(`toFloat32: unknown dtype ${String((t as NamedTensor).dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}.`);
  }
}

/**
 * Rounds float32 values to IEEE half precision (round to nearest, ties to even; too large ->
 * infinity; NaN stays NaN) and returns the 16-bit patterns, as F16 tensors store them. Used to
 * halve the size of weights that are only read (the site's live demos).
 */
export function float32ToF16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      // A half subnormal m * 2^-24 (or zero): shift the 24-bit significand down, rounding.
      const shift = 14 - e;
      if (shift > 24) {
        out[i] = sign;
        continue;
      }
      const sig = mant | 0x800000;
      let m = sig >>> shift;
      const rem = sig & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (m & 1) === 1)) m++;
      out[i] = sign | m;
    } else {
      let m = mant >>> 13;
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && (m & 1) === 1)) m++;
      // A carry out of the mantissa moves into the exponent (up to infinity), as it should.
      out[i] = sign | ((e << 10) + m);
    }
  }
  return out;
}
