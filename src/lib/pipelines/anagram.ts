import { tf } from '../backend/tf';
import { DiffusionModel, ModelOutput } from '../pretrained/model';
import { DEFAULT_GUIDANCE, GuidanceOptions, checkGuidance, guidedPredictions } from './cfg';
import { PipelineOptions, runFromNoise } from './iterative';
import { NoisePredictor } from './predictor';
import { checkPrompt } from './validate';

/**
 * How the second prompt's image is seen. 'flip' = upside down (rows reversed, SPEC 1.8), e.g.
 * 2 <-> 5; 'rotate180' = rows and columns reversed, e.g. 8 <-> 3. Both are their own inverse.
 */
export type AnagramView = 'flip' | 'rotate180';

export const ANAGRAM_VIEWS: readonly AnagramView[] = ['flip', 'rotate180'];

/** The view applied to NHWC images. */
export function applyView(x: tf.Tensor4D, view: AnagramView): tf.Tensor4D {
  if (view === 'flip') return tf.reverse(x, [1]);
  if (view === 'rotate180') return tf.reverse(x, [1, 2]);
  throw new Error(`Unknown anagram view ${JSON.stringify(view)}: use one of ${ANAGRAM_VIEWS.join(', ')}`);
}

/** The inverse of a view (each view here is its own inverse). */
export function invertView(x: tf.Tensor4D, view: AnagramView): tf.Tensor4D {
  return applyView(x, view);
}

/**
 * SPEC 1.8 as a predictor: eps1 = CFG(x_t, p1), eps2 = view^-1(CFG(view(x_t), p2)),
 * eps = (eps1 + eps2) / 2; the conditional variance values are averaged the same way.
 * Both prompts (conditional and unconditional) go through one model call of 4B images.
 */
export function anagramPredictor(model: DiffusionModel, prompt1: tf.Tensor2D, prompt2: tf.Tensor2D, view: AnagramView, g: GuidanceOptions): NoisePredictor {
  const gamma = g.guidance ?? DEFAULT_GUIDANCE;
  checkGuidance(gamma);
  checkPrompt(g.unconditional, 1, 'unconditional');
  if (!ANAGRAM_VIEWS.includes(view)) throw new Error(`Unknown anagram view ${JSON.stringify(view)}: use one of ${ANAGRAM_VIEWS.join(', ')}`);
  return (xt, t) => {
    const seen = applyView(xt, view);
    const [a, b] = guidedPredictions(
      model,
      t,
      [
        { x: xt, prompt: prompt1 },
        { x: seen, prompt: prompt2 },
      ],
      g.unconditional,
      gamma,
    );
    seen.dispose();
    const [eps, varValue] = tf.tidy(() => {
      const e = tf.div(tf.add(a.eps, invertView(b.eps, view)), 2) as tf.Tensor4D;
      if (!a.varValue || !b.varValue) return [e];
      return [e, tf.div(tf.add(a.varValue, invertView(b.varValue, view)), 2) as tf.Tensor4D];
    });
    const result: ModelOutput = varValue ? { eps, varValue } : { eps };
    tf.dispose([a.eps, a.varValue, b.eps, b.varValue].filter((x): x is tf.Tensor4D => x !== undefined));
    return result;
  };
}

export interface AnagramOptions extends PipelineOptions, GuidanceOptions {
  /** Number of illusions, generated together. */
  count: number;
  /** Seen upright, [1, E] or [count, E]. */
  prompt1: tf.Tensor2D;
  /** Seen under the view, [1, E] or [count, E]. */
  prompt2: tf.Tensor2D;
  /** Default 'flip' (upside down, SPEC 1.8). */
  view?: AnagramView;
}

/** SPEC 1.8, visual anagrams sampled from pure noise with CFG. The caller owns the result. */
export function visualAnagram(model: DiffusionModel, opts: AnagramOptions): tf.Tensor4D {
  checkPrompt(opts.prompt1, opts.count, 'first prompt');
  checkPrompt(opts.prompt2, opts.count, 'second prompt');
  const predictor = anagramPredictor(model, opts.prompt1, opts.prompt2, opts.view ?? 'flip', opts);
  return runFromNoise(model, opts.count, predictor, opts);
}
