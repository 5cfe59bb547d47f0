import { tf } from '../backend/tf';
import { BlurPadding, gaussianBlur } from './blur';

export interface BlurSettings {
  kernelSize: number;
  sigma: number;
  padding?: BlurPadding;
}

/** SPEC 1.2, classical denoising: a Gaussian blur of the noisy images (the starter's kernel 5, sigma 2). */
export function classicalDenoise(noisy: tf.Tensor4D, settings: BlurSettings = { kernelSize: 5, sigma: 2 }): tf.Tensor4D {
  return gaussianBlur(noisy, settings.kernelSize, settings.sigma, settings.padding);
}

/** Candidate settings for bestClassicalDenoise: kernels 3..9 with sigmas 0.5..3 (kernel >= about 2 sigma). */
export const BLUR_CANDIDATES: readonly BlurSettings[] = [3, 5, 7, 9].flatMap((kernelSize) => [0.5, 1, 1.5, 2, 3].map((sigma) => ({ kernelSize, sigma })));

/**
 * The blur that best recovers `clean` from `noisy` (lowest mean squared error over the batch),
 * for SPEC 1.2's "show the best". The caller owns the returned image.
 */
export function bestClassicalDenoise(
  noisy: tf.Tensor4D,
  clean: tf.Tensor4D,
  candidates: readonly BlurSettings[] = BLUR_CANDIDATES,
): { settings: BlurSettings; image: tf.Tensor4D; mse: number } {
  if (candidates.length === 0) throw new Error('bestClassicalDenoise: give at least one blur setting to try');
  let best: { settings: BlurSettings; image: tf.Tensor4D; mse: number } | null = null;
  for (const settings of candidates) {
    const image = classicalDenoise(noisy, settings);
    const mseT = tf.tidy(() => tf.mean(tf.squaredDifference(image, clean)));
    const mse = mseT.dataSync()[0];
    mseT.dispose();
    if (best === null || mse < best.mse) {
      best?.image.dispose();
      best = { settings, image, mse };
    } else {
      image.dispose();
    }
  }
  return best as { settings: BlurSettings; image: tf.Tensor4D; mse: number };
}
