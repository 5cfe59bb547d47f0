import { tf } from '../backend/tf';

/**
 * How a blur treats the border. 'reflect' mirrors the image without repeating the edge pixel
 * (torch's and torchvision's "reflect": index -1 reads index 1), so a constant image stays
 * constant; 'zero' treats pixels outside the image as 0 (darkens towards -1..1's middle).
 */
export type BlurPadding = 'reflect' | 'zero';

/** The normalised 1D Gaussian kernel (as torchvision): exp(-x^2 / (2 sigma^2)) at x = -(k-1)/2..(k-1)/2. */
export function gaussianKernel1d(kernelSize: number, sigma: number): Float64Array {
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new Error(`Gaussian blur: kernel size must be a positive odd integer, got ${kernelSize}`);
  }
  if (!(sigma > 0)) throw new Error(`Gaussian blur: sigma must be positive, got ${sigma}`);
  const r = (kernelSize - 1) / 2;
  const w = new Float64Array(kernelSize);
  let sum = 0;
  for (let i = 0; i < kernelSize; i++) {
    w[i] = Math.exp(-0.5 * ((i - r) / sigma) ** 2);
    sum += w[i];
  }
  for (let i = 0; i < kernelSize; i++) w[i] /= sum;
  return w;
}

/** Index i of a length-n axis folded back inside by reflection without edge repeat. */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/**
 * The n x n matrix A with (A x)[i] = sum_k w[k] x[i + k - r] for a padded signal x. Written as a
 * matrix, a blur along one axis is a single matMul and any kernel size works on any image size.
 */
export function blurMatrix(n: number, kernel: ArrayLike<number>, padding: BlurPadding): Float32Array {
  const r = (kernel.length - 1) / 2;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < kernel.length; k++) {
      const src = i + k - r;
      if (padding === 'zero') {
        if (src >= 0 && src < n) a[i * n + src] += kernel[k];
      } else {
        a[i * n + reflectIndex(src, n)] += kernel[k];
      }
    }
  }
  return Float32Array.from(a);
}

/**
 * Separable Gaussian blur of NHWC images, each channel on its own. Padding 'reflect' by default
 * (as torchvision's gaussian_blur); see BlurPadding.
 */
export function gaussianBlur(im: tf.Tensor4D, kernelSize: number, sigma: number, padding: BlurPadding = 'reflect'): tf.Tensor4D {
  const kernel = gaussianKernel1d(kernelSize, sigma);
  const [n, h, w, c] = im.shape;
  // x A^T with A^T built here: matMul's transposeB flag is about 10x slower on the wasm backend.
  const blurT = (len: number) => tf.tensor2d(transposed(blurMatrix(len, kernel, padding), len), [len, len]);
  return tf.tidy(() => {
    // Rows: move H last, multiply by A_h^T, move back.
    const cols = tf.reshape(tf.transpose(im, [0, 2, 3, 1]), [n * w * c, h]);
    const rowsBlurred = tf.transpose(tf.reshape(tf.matMul(cols, blurT(h)), [n, w, c, h]), [0, 3, 1, 2]);
    // Columns: move W last, the same.
    const rows = tf.reshape(tf.transpose(rowsBlurred, [0, 1, 3, 2]), [n * h * c, w]);
    return tf.transpose(tf.reshape(tf.matMul(rows, blurT(w)), [n, h, c, w]), [0, 1, 3, 2]) as tf.Tensor4D;
  });
}

function transposed(a: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j];
  return out;
}
