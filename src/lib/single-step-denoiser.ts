import { tf } from './backend/tf';
import { UNet } from './nn/unet';
import { Rng } from './random';

/**
 * SPEC B1: noisy inputs z = x + sigma eps and the single-step denoiser's estimates D(z), for a
 * batch of clean images [N, 28, 28, C] (the model's size and channels) in [0, 1].
 */
export function denoiseAtSigma(
  model: UNet,
  images: Float32Array,
  count: number,
  sigma: number,
  rng: Rng,
): {
  noisy: Float32Array;
  denoised: Float32Array;
} {
  if (model.config.conditioning !== 'none') throw new Error('denoiseAtSigma needs the unconditional (single-step) UNet');
  const size = model.imageSize;
  const channels = model.config.channels;
  const values = count * size * size * channels;
  if (images.length !== values) {
    throw new Error(`denoiseAtSigma: expected ${count} images of ${size}x${size}x${channels} (${values} values), got ${images.length} values`);
  }
  const noise = rng.normalArray(images.length);
  const noisy = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) noisy[i] = images[i] + sigma * noise[i];
  const out = tf.tidy(() => model.forward({ x: tf.tensor4d(noisy, [count, size, size, channels]) }));
  const denoised = out.dataSync() as Float32Array;
  out.dispose();
  return { noisy, denoised: denoised.slice() };
}
