import { tf } from '../backend/tf';
import { loadDeepFloydIF } from '../pretrained/deepfloyd/if-model';
import { loadPromptEmbeddings } from '../pretrained/deepfloyd/prompt-embeddings';
import { loadBuiltinModel, builtinPrompts } from '../pretrained/builtin';
import { DiffusionModel, PromptDictionary } from '../pretrained/model';
import { PART_A_MODEL_KINDS, PartAModelKind, PartAPrompts, checkPromptsKnown, partAPrompts } from './prompts';

/** A Part A model with its prompts, as a notebook uses it. */
export interface PartAModel {
  kind: PartAModelKind;
  model: DiffusionModel & { dispose(): void };
  dictionary: PromptDictionary;
  prompts: PartAPrompts;
  /** The unconditional embedding "" [1, E], for every CFG call; disposed by dispose(). */
  unconditional: tf.Tensor2D;
  /** Frees the weights and the unconditional embedding. */
  dispose(): void;
}

export interface PartAModelOptions {
  /** 'builtin' (default) or 'deepfloyd-if'. */
  model?: string;
  /** deepfloyd-if: the diffusers folder of IF stage I (the one holding unet/). */
  modelPath?: string;
  /** deepfloyd-if: the prompt embeddings, a safetensors file with one tensor per prompt. */
  promptsPath?: string;
}

/**
 * Loads the model a Part A notebook's parameters name: the built-in model (shipped weights, no
 * download) or DeepFloyd IF stage I from a local folder plus a prompt-embedding file.
 */
export function loadPartAModel(opts: PartAModelOptions = {}): PartAModel {
  const kind = (opts.model ?? 'builtin') as PartAModelKind;
  if (!PART_A_MODEL_KINDS.includes(kind)) {
    throw new Error(`Unknown model "${opts.model}": set model to one of ${PART_A_MODEL_KINDS.join(', ')}`);
  }
  let model: DiffusionModel & { dispose(): void };
  let dictionary: PromptDictionary;
  if (kind === 'builtin') {
    model = loadBuiltinModel();
    dictionary = builtinPrompts();
  } else {
    if (!opts.modelPath || !opts.promptsPath) {
      throw new Error(
        'model = "deepfloyd-if" needs modelPath (the diffusers folder of IF stage I, e.g. a snapshot of DeepFloyd/IF-I-M-v1.0) ' +
          'and promptsPath (a safetensors file of T5 prompt embeddings, see docs/deepfloyd-if.md); set both in the parameters cell.',
      );
    }
    dictionary = loadPromptEmbeddings(opts.promptsPath).dictionary;
    model = loadDeepFloydIF(opts.modelPath);
  }
  const prompts = partAPrompts(kind);
  checkPromptsKnown(prompts, dictionary);
  const unconditional = dictionary.embed(prompts.unconditional);
  return {
    kind, model, dictionary, prompts, unconditional,
    dispose: () => {
      unconditional.dispose();
      model.dispose();
    },
  };
}
