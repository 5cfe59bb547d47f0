import type { StateValues } from '../checkpoint';
import { NamedTensor } from '../io/safetensors';
import { CheckpointLayout, detectLayout, fromTorchState, LAYOUT_KEY, modelTorchState, stateSpec } from '../io/torch-layout';
import { UNet } from '../nn/unet';
import { defaultTrainConfig, MODEL_KINDS, ModelKind, TrainConfig, validateTrainConfig } from './config';
import { createModel } from './networks';

/**
 * Part B's UNets as PyTorch state dicts (safetensors), both ways. The PyTorch modules with the
 * same names are in scripts/torch_unets.py; io/torch-layout.ts does the axis orders. A file's
 * metadata says what it holds (layout, kind, hidden width, the training config when known) and
 * how to call the model; without metadata (a state dict saved by plain PyTorch code) the kind and
 * width are read off the tensors' shapes.
 */

/** metadata "model" of an exported file. */
export const TORCH_UNET_MODEL = 'diffusion-ts Part B UNet';

/** How to call the PyTorch model, as written into an exported file's metadata. */
export function torchUNetInputs(config: Pick<TrainConfig, 'pixelRange'>): string {
  return (
    `x [N, 1, 28, 28] float32 in ${config.pixelRange === 'symmetric' ? '[-1, 1]' : '[0, 1]'} (NCHW); t [N, 1] = timestep / T (time and class kinds); ` +
    'c [N, num_classes] one-hot, all zeros = unconditional (class kind). Call model(x), model(x, t) or model(x, t, c) in eval mode.'
  );
}

export interface TorchUNetFile {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

/** What a state dict's shapes say about the UNet that made it. */
export interface UNetShapeFacts {
  kind: ModelKind;
  hidden: number;
  numClasses: number;
}

/** The first conv's weight: its shape gives D and the image channels. */
const FIRST_CONV = 'in_block.conv1.conv.weight';

/**
 * The kind, hidden width D and number of classes of the Part B UNet whose tensors these are,
 * from the first conv's weight ([D, 1, 3, 3] in PyTorch layout, [3, 3, 1, D] in TF.js layout)
 * and which conditioning blocks exist (t1.* -> time, c1.* -> class).
 */
export function unetShapeFacts(shapes: Readonly<Record<string, readonly number[]>>, layout: CheckpointLayout, source: string): UNetShapeFacts {
  const first = shapes[FIRST_CONV];
  const expected = layout === 'torch' ? '[D, 1, 3, 3]' : '[3, 3, 1, D]';
  if (!first) {
    throw new Error(`${source} has no tensor "${FIRST_CONV}": it is not a state dict of a Part B UNet (the names must match scripts/torch_unets.py).`);
  }
  const [hidden, channels, kh, kw] = layout === 'torch' ? first : [first[3], first[2], first[0], first[1]];
  if (first.length !== 4 || kh !== 3 || kw !== 3 || channels !== 1) {
    const other =
      layout === 'torch' ? 'TF.js layout (then load it directly, no import needed)' : 'PyTorch layout (then import it with diffusion import --torch)';
    throw new Error(
      `${source}: "${FIRST_CONV}" has shape [${first.join(', ')}], but a Part B UNet's first conv in ${layout === 'torch' ? 'PyTorch' : 'TF.js'} layout is ${expected} ` +
        `(3x3, 1 image channel). Is the file in ${other}?`,
    );
  }
  const classWeight = shapes['c1.fc1.weight'];
  if (classWeight) {
    const numClasses = layout === 'torch' ? classWeight[1] : classWeight[0];
    return { kind: 'class', hidden, numClasses };
  }
  return { kind: shapes['t1.fc1.weight'] ? 'time' : 'denoiser', hidden, numClasses: 10 };
}

/**
 * The training config to record for a UNet: the file's own "config" metadata when it describes
 * the same kind and width, else SPEC's defaults for the kind with the width and classes found.
 */
function configFor(facts: UNetShapeFacts, metadata: Readonly<Record<string, string>>): TrainConfig {
  if (metadata.config) {
    try {
      const config = JSON.parse(metadata.config) as TrainConfig;
      validateTrainConfig(config);
      if (config.kind === facts.kind && config.hidden === facts.hidden && (facts.kind !== 'class' || config.numClasses === facts.numClasses)) return config;
    } catch {
      // Not a config of this project: fall back to the defaults below.
    }
  }
  return { ...defaultTrainConfig(facts.kind), hidden: facts.hidden, numClasses: facts.numClasses };
}

/**
 * A UNet's weights as a PyTorch state dict with metadata (layout "torch", format "pt", kind,
 * hidden width, inputs, and `config` when given). Reads the values back from the backend.
 */
export function exportTorchUNet(model: UNet, config: TrainConfig, extra: Record<string, string> = {}): TorchUNetFile {
  const kind = kindOf(model);
  if (kind !== config.kind) throw new Error(`exportTorchUNet: the model is a ${kind} UNet but the config says ${config.kind}.`);
  const tensors = modelTorchState(model);
  const metadata: Record<string, string> = {
    ...extra,
    [LAYOUT_KEY]: 'torch',
    format: 'pt',
    model: TORCH_UNET_MODEL,
    kind,
    hidden: String(model.config.hidden),
    num_classes: String(model.config.numClasses),
    inputs: torchUNetInputs(config),
    config: JSON.stringify(config),
  };
  return { tensors, metadata };
}

/**
 * Builds the Part B UNet a PyTorch state dict describes and loads it (converted to TF.js layout).
 * Refuses a file that declares TF.js layout, and names every tensor that does not fit.
 */
export function importTorchUNet(file: TorchUNetFile, source: string): { model: UNet; config: TrainConfig } {
  const { tensors, metadata } = file;
  detectLayout(metadata, Object.keys(tensors), source); // refuses an unknown layout value
  if (metadata[LAYOUT_KEY] === 'tfjs') {
    throw new Error(
      `${source} is already in this project's TF.js layout (metadata "${LAYOUT_KEY}": "tfjs"): load it directly (loadCheckpoint), no import needed.`,
    );
  }
  const shapes: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(tensors)) shapes[name] = t.shape;
  const facts = unetShapeFacts(shapes, 'torch', source);
  const config = configFor(facts, metadata);
  const model = createModel(config);
  try {
    model.loadState(fromTorchState(stateSpec(model), tensors, source), source);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, config };
}

/**
 * The Part B UNet in a TF.js-layout checkpoint of this project (a run's model-epoch-NNN file, its
 * training checkpoint, or an imported file), built from the tensors' shapes and loaded. The
 * optimiser moments of a training checkpoint (adam.*) are passed over; any other tensor the
 * model lacks is an error.
 */
export function unetFromCheckpoint(values: StateValues, metadata: Readonly<Record<string, string>>, source: string): { model: UNet; config: TrainConfig } {
  const shapes: Record<string, number[]> = {};
  for (const [name, v] of values) shapes[name] = v.shape;
  const config = configFor(unetShapeFacts(shapes, 'tfjs', source), metadata);
  const model = createModel(config);
  try {
    const names = new Set(model.stateEntries().map(([name]) => name));
    const extra = [...values.keys()].filter((n) => !names.has(n) && !n.startsWith(OPTIMISER_PREFIX));
    if (extra.length > 0) {
      throw new Error(
        `${source} holds ${extra.length} tensor(s) a ${config.kind} UNet with D = ${config.hidden} does not have (e.g. ${extra.slice(0, 3).join(', ')}): ` +
          'it is not a Part B UNet checkpoint; give a run folder or one of its model-epoch-NNN.safetensors files.',
      );
    }
    model.loadState(values, source);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, config };
}

/** Names of the optimiser's moments in a training checkpoint (train/adam.ts). */
const OPTIMISER_PREFIX = 'adam.';

/** The Part B kind of a UNet, from its conditioning. */
export function kindOf(model: UNet): ModelKind {
  const kind = model.config.conditioning === 'none' ? 'denoiser' : model.config.conditioning;
  if (!MODEL_KINDS.includes(kind)) throw new Error(`Unknown UNet conditioning ${model.config.conditioning}`);
  return kind;
}
