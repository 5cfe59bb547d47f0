import type { Module, TensorRole } from '../nn/module';
import { NamedTensor, toFloat32 } from './safetensors';

/**
 * TF.js layout <-> PyTorch layout of a model's tensors. The names are the same on both sides
 * (this project names its tensors as a PyTorch state dict would); the axis order differs:
 *
 *   role (from the layer that made the tensor)  here (TF.js)        PyTorch
 *   conv2d-weight                               [kh, kw, in, out]   [out, in, kh, kw]
 *   conv-transpose2d-weight                     [kh, kw, out, in]   [in, out, kh, kw]
 *   linear-weight                               [in, out]           [out, in]
 *   bias, batchnorm                             [C]                 [C]
 *   same-layout (embedding tables, positions)   as PyTorch          the same
 *
 * No spatial flip anywhere: tf.conv2dTranspose and PyTorch's ConvTranspose2d are both the adjoint
 * of a cross-correlation, out[y*s - p + i, x*s - p + j, o] += in[y, x, c] * W[i, j, o, c]
 * (test/io/torch-layout.test.ts checks it against that sum written out, and against PyTorch).
 * PyTorch's BatchNorm2d also keeps a step counter, <module>.num_batches_tracked (int64, shape []),
 * which this project does not use: it is written on export and read past on import.
 */

/** Which layout a file's tensors are in; recorded under LAYOUT_KEY in its metadata. */
export type CheckpointLayout = 'tfjs' | 'torch';
export const LAYOUT_KEY = 'layout';
export const BATCHNORM_COUNTER = 'num_batches_tracked';

/** One tensor of a model: its name, what it is and its shape here (TF.js layout). */
export interface StateTensorSpec {
  name: string;
  role: TensorRole;
  shape: number[];
}

/** Values by name, as checkpoints hold them (float32, TF.js layout unless said otherwise). */
export type StateValueMap = Map<string, { shape: number[]; data: Float32Array }>;

/** torchShape[k] = tfjsShape[TO_TORCH[role][k]]; roles not listed are the same on both sides. */
const TO_TORCH: Partial<Record<TensorRole, readonly number[]>> = {
  'conv2d-weight': [3, 2, 0, 1],
  'conv-transpose2d-weight': [3, 2, 0, 1],
  'linear-weight': [1, 0],
};

/**
 * Reorders the axes of a row-major array: the result's axis k is the input's axis perm[k]
 * (numpy's transpose(perm)). Returns the new shape and a new array.
 */
export function permuteAxes(data: Float32Array, shape: readonly number[], perm: readonly number[]): { shape: number[]; data: Float32Array } {
  const rank = shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`permuteAxes: [${perm.join(', ')}] is not a permutation of the ${rank} axes of shape [${shape.join(', ')}].`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`permuteAxes: shape [${shape.join(', ')}] needs ${size} values, got ${data.length}.`);
  const strides = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; s *= shape[k], k--) strides[k] = s;
  const outShape = perm.map((p) => shape[p]);
  const outStrides = perm.map((p) => strides[p]); // input stride of each output axis
  const out = new Float32Array(size);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < size; i++) {
    out[i] = data[src];
    // Advance the output index like an odometer, moving the input offset along.
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) {
        src += outStrides[k];
        break;
      }
      src -= outStrides[k] * (outShape[k] - 1);
      index[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, k) => (inv[p] = k));
  return inv;
}

/** The permutation for a role, or null when the tensor is the same on both sides. */
function permutationFor(role: TensorRole, name: string, shape: readonly number[]): readonly number[] | null {
  const perm = TO_TORCH[role];
  if (perm) {
    if (shape.length !== perm.length) {
      throw new Error(`Tensor "${name}" is a ${role} but has shape [${shape.join(', ')}] (${shape.length} axes, expected ${perm.length}).`);
    }
    return perm;
  }
  if (role === 'unspecified' && shape.length > 1) {
    throw new Error(
      `Tensor "${name}" (shape [${shape.join(', ')}]) comes from a layer that does not say what it is, so its PyTorch layout is unknown. ` +
        "Only tensors whose layer gives a TensorRole in addParam convert (Conv2d, ConvTranspose2d, Linear, BatchNorm2d, or 'same-layout' for a tensor PyTorch holds the same way).",
    );
  }
  return null;
}

/** The PyTorch shape of a tensor of this role with TF.js shape `shape`. */
export function torchShape(role: TensorRole, name: string, shape: readonly number[]): number[] {
  const perm = permutationFor(role, name, shape);
  return perm ? perm.map((p) => shape[p]) : [...shape];
}

/** One tensor, TF.js layout -> PyTorch layout. */
export function tfjsToTorch(role: TensorRole, name: string, shape: readonly number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  const perm = permutationFor(role, name, shape);
  return perm ? permuteAxes(data, shape, perm) : { shape: [...shape], data: new Float32Array(data) };
}

/** One tensor, PyTorch layout -> TF.js layout (`shape` is the PyTorch shape). */
export function torchToTfjs(role: TensorRole, name: string, shape: readonly number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  const perm = permutationFor(role, name, shape);
  return perm ? permuteAxes(data, shape, inverse(perm)) : { shape: [...shape], data: new Float32Array(data) };
}

/** Every tensor of a model with its role and TF.js shape, in state order. */
export function stateSpec(model: Module): StateTensorSpec[] {
  const roles = model.stateRoles();
  return model.stateEntries().map(([name, v]) => ({ name, role: roles.get(name) ?? 'unspecified', shape: [...v.shape] }));
}

/** A model's current values as a PyTorch state dict (toTorchState of its own tensors; reads them back from the backend). */
export function modelTorchState(model: Module): Record<string, NamedTensor> {
  const values = new Map(model.stateEntries().map(([name, v]) => [name, { shape: [...v.shape], data: v.dataSync() as Float32Array }]));
  return toTorchState(stateSpec(model), values);
}

/** The names of PyTorch's BatchNorm2d step counters: one per module that has 'batchnorm' tensors. */
export function batchNormCounters(spec: readonly StateTensorSpec[]): string[] {
  const modules = new Set<string>();
  for (const t of spec) if (t.role === 'batchnorm') modules.add(t.name.slice(0, t.name.lastIndexOf('.') + 1));
  return [...modules].map((prefix) => `${prefix}${BATCHNORM_COUNTER}`);
}

/**
 * A model's values as a PyTorch state dict: every tensor in PyTorch layout (F32) plus BatchNorm's
 * step counters (I64, shape [], set to `batchesTracked`). Pure: checks that `values` holds every
 * tensor of `spec` with its TF.js shape.
 */
export function toTorchState(
  spec: readonly StateTensorSpec[],
  values: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>,
  batchesTracked = 0,
): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  for (const t of spec) {
    const v = values.get(t.name);
    if (!v) throw new Error(`toTorchState: no value for tensor "${t.name}"; pass the model's full state (stateEntries).`);
    if (!sameShape(v.shape, t.shape)) {
      throw new Error(`toTorchState: tensor "${t.name}" has shape [${v.shape.join(', ')}], the model's is [${t.shape.join(', ')}].`);
    }
    const { shape, data } = tfjsToTorch(t.role, t.name, t.shape, v.data);
    out[t.name] = { dtype: 'F32', shape, data };
  }
  for (const name of batchNormCounters(spec)) out[name] = { dtype: 'I64', shape: [], data: new BigInt64Array([BigInt(batchesTracked)]) };
  return out;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * A PyTorch state dict (tensors in PyTorch layout) as TF.js-layout values for `spec`'s model,
 * ready for Module.loadState. Every problem is collected and reported at once, each naming the
 * tensor: missing and unexpected names, shapes (expected and found, in PyTorch layout), dtypes.
 * BatchNorm counters may be present (any integer dtype, ignored) or absent.
 */
export function fromTorchState(spec: readonly StateTensorSpec[], tensors: Readonly<Record<string, NamedTensor>>, source: string): StateValueMap {
  const counters = new Set(batchNormCounters(spec));
  const expected = new Set(spec.map((t) => t.name));
  const problems: string[] = [];
  const missing = spec.filter((t) => !(t.name in tensors)).map((t) => t.name);
  if (missing.length > 0) problems.push(`missing ${missing.length} tensor(s): ${listSome(missing)}`);
  const extra = Object.keys(tensors).filter((n) => !expected.has(n) && !counters.has(n));
  if (extra.length > 0) problems.push(`${extra.length} tensor(s) this model does not have: ${listSome(extra)}`);
  for (const name of counters) {
    const t = tensors[name];
    if (t && (t.shape.length !== 0 || FLOAT_DTYPES.has(t.dtype))) {
      problems.push(`"${name}" should be BatchNorm's step counter (an integer of shape []), found ${t.dtype} [${t.shape.join(', ')}]`);
    }
  }
  const values: StateValueMap = new Map();
  for (const t of spec) {
    const found = tensors[t.name];
    if (!found) continue;
    const want = torchShape(t.role, t.name, t.shape);
    if (!FLOAT_DTYPES.has(found.dtype)) {
      problems.push(`"${t.name}" is ${found.dtype}; it must be a float tensor (F32, F16, BF16 or F64)`);
    } else if (!sameShape(found.shape, want)) {
      const hint = sameShape(found.shape, t.shape) ? ' (the TF.js layout: this tensor was not converted to PyTorch layout)' : '';
      problems.push(`"${t.name}" (${t.role}) has shape [${found.shape.join(', ')}], expected [${want.join(', ')}]${hint}`);
    } else {
      values.set(t.name, torchToTfjs(t.role, t.name, found.shape, toFloat32(found)));
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${source} is not a PyTorch state dict of this model: ${problems.join('; ')}. ` +
        'Save model.state_dict() of the same architecture and size (scripts/torch_unets.py builds the Part B UNets with these names), ' +
        'or check the hidden width D and the conditioning.',
    );
  }
  return values;
}

function listSome(names: readonly string[]): string {
  const shown = names
    .slice(0, 6)
    .map((n) => `"${n}"`)
    .join(', ');
  return names.length > 6 ? `${shown}, ... (${names.length - 6} more)` : shown;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The layout of a file's tensors: its LAYOUT_KEY metadata when present; otherwise 'torch' for
 * files PyTorch's tooling marks ("format": "pt") or that hold BatchNorm step counters, and 'tfjs'
 * for this project's files from before the key existed.
 */
export function detectLayout(metadata: Readonly<Record<string, string>>, names: readonly string[], source: string): CheckpointLayout {
  const declared = metadata[LAYOUT_KEY];
  if (declared === 'tfjs' || declared === 'torch') return declared;
  if (declared !== undefined) {
    throw new Error(
      `${source}: metadata "${LAYOUT_KEY}" is "${declared}"; this project reads "tfjs" and "torch". Write the file again with this project or scripts/torch_unets.py.`,
    );
  }
  if (metadata.format === 'pt' || names.some((n) => n === BATCHNORM_COUNTER || n.endsWith(`.${BATCHNORM_COUNTER}`))) return 'torch';
  return 'tfjs';
}

/** Refuses a PyTorch-layout file where TF.js layout is needed, saying how to import it. */
export function requireTfjsLayout(metadata: Readonly<Record<string, string>>, names: readonly string[], source: string): void {
  if (detectLayout(metadata, names, source) === 'torch') {
    throw new Error(
      `${source} holds PyTorch-layout tensors (conv weights [out, in, kh, kw], linear weights [out, in]), not this project's TF.js layout. ` +
        `Import it first: diffusion import --torch ${source} --out DIR (or importTorchUNet in code).`,
    );
  }
}
