import { tf } from '../backend/tf';
import { loadDeepFloydIF } from '../pretrained/deepfloyd/if-model';
import { loadPromptEmbeddings } from '../pretrained/deepfloyd/prompt-embeddings';
import { loadBuiltinModel, builtinPrompts } from '../pretrained/builtin';
import { loadEmojiCascade } from '../pretrained/emoji-model';
import { DiffusionModel, PromptEncoder, SuperResolutionModel } from '../pretrained/model';
import { PART_A_MODEL_KINDS, PartAModelKind, PartAPrompts, checkPromptsKnown, partAPrompts } from './prompts';

/** A Part A model with its prompts, as a notebook uses it. */
export interface PartAModel {
  kind: PartAModelKind;
  model: DiffusionModel & { dispose(): void };
  /** Prompt -> embedding: a dictionary of known prompts, or a text encoder. */
  dictionary: PromptEncoder;
  /** The cascade's second stage (the colour model's 32 -> 64 px upsampler), when there is one. */
  upsampler?: SuperResolutionModel;
  prompts: PartAPrompts;
  /** The unconditional embedding "" [1, E], for every CFG call; disposed by dispose(). */
  unconditional: tf.Tensor2D;
  /** Frees the weights and the unconditional embedding. */
  dispose(): void;
}

export interface PartAModelOptions {
  /**
   * 'builtin' (the colour model), 'builtin-digits', 'deepfloyd-if', or 'default': the profile's
   * built-in model (the colour model; the digits model in the smoke profile, for speed).
   */
  model?: string;
  /** Only for model 'default'. */
  profile?: string;
  /** deepfloyd-if: the diffusers folder of IF stage I (the one holding unet/). */
  modelPath?: string;
  /** deepfloyd-if: the prompt embeddings, a safetensors file with one tensor per prompt. */
  promptsPath?: string;
}

/** The model 'default' means under a profile: the digits model keeps smoke runs fast. */
export function defaultPartAModel(profile?: string): PartAModelKind {
  return profile === 'smoke' ? 'builtin-digits' : 'builtin';
}

/**
 * Loads the model a Part A notebook's parameters name: a built-in model (shipped weights, no
 * download) or DeepFloyd IF stage I from a local folder plus a prompt-embedding file.
 */
export function loadPartAModel(opts: PartAModelOptions = {}): PartAModel {
  const name = opts.model ?? 'builtin';
  const kind = (name === 'default' ? defaultPartAModel(opts.profile) : name) as PartAModelKind;
  if (!PART_A_MODEL_KINDS.includes(kind)) {
    throw new Error(`Unknown model "${opts.model}": set model to one of default, ${PART_A_MODEL_KINDS.join(', ')}`);
  }
  let model: DiffusionModel & { dispose(): void };
  let dictionary: PromptEncoder;
  let upsampler: (SuperResolutionModel & { dispose(): void }) | undefined;
  if (kind === 'builtin') {
    const cascade = loadEmojiCascade();
    model = cascade.stage1;
    dictionary = cascade.prompts;
    upsampler = cascade.stage2;
  } else if (kind === 'builtin-digits') {
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
    kind, model, dictionary, upsampler, prompts, unconditional,
    dispose: () => {
      unconditional.dispose();
      model.dispose();
      upsampler?.dispose();
    },
  };
}
