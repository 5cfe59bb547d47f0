import { loadDeepFloydIF } from '../lib/pretrained/deepfloyd/if-model';
import { loadPromptEmbeddings } from '../lib/pretrained/deepfloyd/prompt-embeddings';
import { builtinPrompts, loadBuiltinDigitsModel } from '../lib/pretrained/builtin';
import { loadEmojiCascade } from '../lib/pretrained/emoji-model';
import { DiffusionModel, PromptEncoder, SuperResolutionModel } from '../lib/pretrained/model';

/**
 * The Part A models, by the name a notebook's `model` parameter gives: each loads a model, its
 * prompt encoder and, for a cascade, its upsampler. Adding a model is adding an entry here (and
 * its prompt set in inputs/prompts.ts).
 */

export type PartAModelKind = 'builtin' | 'builtin-digits' | 'deepfloyd-if';

export interface LoadedPartAModel {
  model: DiffusionModel & { dispose(): void };
  /** Prompt -> embedding: a dictionary of known prompts, or a text encoder. */
  dictionary: PromptEncoder;
  /** The cascade's second stage, when there is one. */
  upsampler?: SuperResolutionModel & { dispose(): void };
}

/** Files a model that is not shipped needs. */
export interface ModelFiles {
  /** deepfloyd-if: the diffusers folder of IF stage I (the one holding unet/). */
  modelPath?: string;
  /** deepfloyd-if: the prompt embeddings, a safetensors file with one tensor per prompt. */
  promptsPath?: string;
}

export interface PartAModelEntry {
  description: string;
  load(files: ModelFiles): LoadedPartAModel;
}

export const PART_A_MODELS: Readonly<Record<PartAModelKind, PartAModelEntry>> = {
  builtin: {
    description: 'the built-in colour text-to-image cascade (32 px, and 64 px through its upsampler), trained on emoji art',
    load: () => {
      const cascade = loadEmojiCascade();
      return { model: cascade.stage1, dictionary: cascade.prompts, upsampler: cascade.stage2 };
    },
  },
  'builtin-digits': {
    description: 'the built-in 28 px gray model of digits and Fashion-MNIST (the fast one)',
    load: () => ({ model: loadBuiltinDigitsModel(), dictionary: builtinPrompts() }),
  },
  'deepfloyd-if': {
    description: 'DeepFloyd IF stage I from a local diffusers folder, with precomputed T5 prompt embeddings',
    load: ({ modelPath, promptsPath }) => {
      if (!modelPath || !promptsPath) {
        throw new Error(
          'model = "deepfloyd-if" needs modelPath (the diffusers folder of IF stage I, e.g. a snapshot of DeepFloyd/IF-I-M-v1.0) ' +
            'and promptsPath (a safetensors file of T5 prompt embeddings, see docs/deepfloyd-if.md); set both in the parameters cell.',
        );
      }
      const dictionary = loadPromptEmbeddings(promptsPath).dictionary;
      return { model: loadDeepFloydIF(modelPath), dictionary };
    },
  },
};

export const PART_A_MODEL_KINDS = Object.keys(PART_A_MODELS) as readonly PartAModelKind[];

/** The entry for a model name, or an error listing the names there are. */
export function partAModelEntry(name: string): PartAModelEntry {
  if (!(PART_A_MODEL_KINDS as readonly string[]).includes(name)) {
    throw new Error(`Unknown model "${name}": set model to one of default, ${PART_A_MODEL_KINDS.join(', ')}`);
  }
  return PART_A_MODELS[name as PartAModelKind];
}
