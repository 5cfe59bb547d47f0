import { NamedTensor, readSafetensorsFile, toFloat32 } from '../../io/safetensors';
import { PromptDictionary } from '../model';

/**
 * Precomputed text embeddings, like the original's dictionary of T5 states: a safetensors file
 * with one tensor per prompt, named by the prompt itself, each [L, D] or [1, L, D] (IF: [77, 4096];
 * float32, float16 or bfloat16). The tensor named "" is the unconditional (empty-prompt)
 * embedding used by classifier-free guidance. Embeddings are stored flattened (L*D values), the
 * form DeepFloydIFModel.predict accepts.
 */

export interface PromptEmbeddings {
  dictionary: PromptDictionary;
  /** Tokens per prompt (T5: 77). */
  tokens: number;
  /** Width of a token (T5-XXL: 4096). */
  width: number;
}

function tokenShape(name: string, t: NamedTensor, file: string): [number, number] {
  const s = t.shape;
  if (s.length === 2) return [s[0], s[1]];
  if (s.length === 3 && s[0] === 1) return [s[1], s[2]];
  throw new Error(
    `Prompt embeddings ${file}: "${name}" has shape [${s.join(', ')}]; each prompt needs one embedding [L, D] or [1, L, D] (IF: [77, 4096]). Save one tensor per prompt.`,
  );
}

export function loadPromptEmbeddings(file: string): PromptEmbeddings {
  const { tensors } = readSafetensorsFile(file);
  const names = Object.keys(tensors);
  if (names.length === 0) throw new Error(`Prompt embeddings ${file} holds no tensors; save one tensor per prompt (see docs/deepfloyd-if.md).`);
  let shape: [number, number] | undefined;
  let first = '';
  const entries = new Map<string, Float32Array>();
  for (const name of names) {
    const t = tensors[name];
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
      throw new Error(`Prompt embeddings ${file}: "${name}" is ${t.dtype}; save float32, float16 or bfloat16 embeddings.`);
    }
    const s = tokenShape(name, t, file);
    if (shape === undefined) {
      shape = s;
      first = name;
    } else if (s[0] !== shape[0] || s[1] !== shape[1]) {
      throw new Error(
        `Prompt embeddings ${file}: "${name}" is [${s.join(', ')}] but "${first}" is [${shape.join(', ')}]; every prompt must come from the same text encoder and padding.`,
      );
    }
    entries.set(name, toFloat32(t));
  }
  const [tokens, width] = shape!;
  return { dictionary: new PromptDictionary(entries, tokens * width), tokens, width };
}

/** Whether the dictionary has the unconditional embedding that classifier-free guidance needs. */
export function hasUnconditional(d: PromptDictionary): boolean {
  return d.has('');
}
