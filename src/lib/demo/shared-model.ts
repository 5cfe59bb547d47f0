/**
 * How a notebook hands a trained model to the site's live demos: a display output whose data
 * holds the model as a base64 F16 network file under SHARED_MODEL_MIME, with its demo name and a
 * description in the output's metadata. The report builder takes it out of the executed notebook
 * (so a cached notebook still ships its model) and writes it to site/demo/models/.
 */

export const SHARED_MODEL_MIME = 'application/x-diffusion-ts-model';

/** The models the demos can run that notebooks train (the colour model ships with the code). */
export type SharedModelName = 'denoiser' | 'class-conditioned';

export const SHARED_MODEL_NAMES: readonly SharedModelName[] = ['denoiser', 'class-conditioned'];

export interface SharedModelMetadata {
  name: SharedModelName;
  description: string;
}
