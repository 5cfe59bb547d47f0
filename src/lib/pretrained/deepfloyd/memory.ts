import { IFUNetConfig } from './config';
import { architecture, expectedParameters, parameterCount } from './architecture';

/**
 * How much backend memory an IF UNet needs, worked out from its config before any weight is
 * read, so that a model too large for the backend is refused with a clear message instead of
 * failing halfway through loading (or taking the machine down).
 */

/** The wasm backend's heap cannot grow past 4 GiB (32-bit addresses). */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

export interface MemoryEstimate {
  parameters: number;
  /** float32 weights, as held by the backend. */
  weightBytes: number;
  /** Rough peak of the activations of one forward pass (skips kept for the up path, plus the largest temporaries). */
  activationBytes: number;
  totalBytes: number;
}

export interface ForwardShape {
  /** Images per UNet call (2 with classifier-free guidance on one image). */
  batch: number;
  imageSize: number;
  /** Text tokens (T5: 77). */
  tokens: number;
}

export function estimateIFMemory(config: IFUNetConfig, shape: ForwardShape): MemoryEstimate {
  const parameters = parameterCount(expectedParameters(config));
  const { batch, imageSize, tokens } = shape;
  const arch = architecture(config);
  let skips = batch * imageSize * imageSize * config.blockOutChannels[0];
  let largestMap = skips;
  let largestAttention = 0;
  let size = imageSize;
  arch.down.forEach((block, i) => {
    const map = batch * size * size * config.blockOutChannels[i];
    skips += map * block.resnets.length;
    largestMap = Math.max(largestMap, 2 * map); // up-block concatenations are up to twice as wide
    for (const a of block.attentions) {
      largestAttention = Math.max(largestAttention, batch * a.heads * size * size * (size * size + tokens));
    }
    if (block.resampler) {
      size = Math.floor(size / 2);
      skips += batch * size * size * config.blockOutChannels[i];
    }
  });
  // Resnets hold about six maps at once (input, norm, activation, conv, time-conditioned, output);
  // attention holds the scores and their softmax.
  const activationFloats = skips + 6 * largestMap + 3 * largestAttention;
  const weightBytes = 4 * parameters;
  const activationBytes = 4 * activationFloats;
  return { parameters, weightBytes, activationBytes, totalBytes: weightBytes + activationBytes };
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/**
 * Throws when the estimate does not fit the backend. The wasm backend is limited to its 4 GiB
 * heap; other backends are only checked when `limitBytes` is given (e.g. a GPU's memory).
 */
export function checkFitsBackend(estimate: MemoryEstimate, backend: string, limitBytes?: number): void {
  const limit = limitBytes ?? (backend === 'wasm' ? WASM_HEAP_BYTES : undefined);
  if (limit === undefined || estimate.totalBytes <= limit) return;
  const needs =
    `${formatBytes(estimate.totalBytes)} (${(estimate.parameters / 1e9).toFixed(2)}B parameters = ` +
    `${formatBytes(estimate.weightBytes)} of float32 weights + about ${formatBytes(estimate.activationBytes)} of activations)`;
  const fix =
    backend === 'wasm'
      ? 'The wasm backend cannot hold it (its heap is 4 GiB). Install native TensorFlow ' +
        '(npm install @tensorflow/tfjs-node-gpu, or @tensorflow/tfjs-node for CPU) and run with DIFFUSION_BACKEND=tensorflow-gpu ' +
        '(or tensorflow), or use a smaller model such as IF-I-M.'
      : 'Use a machine with more memory, a smaller batch, or a smaller model such as IF-I-M.';
  throw new Error(`This DeepFloyd IF UNet needs ${needs}, more than the ${formatBytes(limit)} the ${backend} backend can use. ${fix}`);
}
