import { tf } from '../../lib/backend/tf';
import { DiffusionModel, PromptEncoder, SuperResolutionModel } from '../../lib/pretrained/model';
import { ModelFiles, PartAModelKind, partAModelEntry } from '../part-a-models';
import { PartAPrompts, checkPromptsKnown, partAPrompts } from './prompts';
import { getProfile } from '../profiles';

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

export interface PartAModelOptions extends ModelFiles {
  /**
   * 'builtin' (the colour model), 'builtin-digits', 'deepfloyd-if', or 'default': the profile's
   * built-in model (the colour model; the digits model in the smoke profile, for speed).
   */
  model?: string;
  /** Only for model 'default'. */
  profile?: string;
}

/** The model 'default' means under a profile (its partAModel; the colour model without one). */
export function defaultPartAModel(profile?: string): PartAModelKind {
  return profile === undefined ? 'builtin' : getProfile(profile).partAModel;
}

/**
 * Loads the model a Part A notebook's parameters name (src/writeup/part-a-models.ts): a built-in model
 * (shipped weights, no download) or DeepFloyd IF stage I from a local folder plus a
 * prompt-embedding file.
 */
export function loadPartAModel(opts: PartAModelOptions = {}): PartAModel {
  const name = opts.model ?? 'builtin';
  const kind = (name === 'default' ? defaultPartAModel(opts.profile) : name) as PartAModelKind;
  const { model, dictionary, upsampler } = partAModelEntry(kind).load(opts);
  const prompts = partAPrompts(kind);
  checkPromptsKnown(prompts, dictionary);
  const unconditional = dictionary.embed(prompts.unconditional);
  return {
    kind,
    model,
    dictionary,
    upsampler,
    prompts,
    unconditional,
    dispose: () => {
      unconditional.dispose();
      model.dispose();
      upsampler?.dispose();
    },
  };
}
