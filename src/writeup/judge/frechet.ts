/**
 * The Frechet distance between two sets of feature vectors, each summarised as a Gaussian
 * (mean mu, covariance S), as FID does with Inception features:
 *   d^2 = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)).
 * tr((S_a S_b)^(1/2)) is the sum of the square roots of the eigenvalues of S_a S_b, which are
 * those of the symmetric L^T S_b L with S_a = L L^T (Cholesky). Features of a relu layer can be
 * constant (dead units), so S_a gets a ridge of 1e-6 times its mean variance to stay positive
 * definite. Computed in float64.
 */

export interface FeatureStats {
  dim: number;
  count: number;
  mean: Float64Array;
  /** dim x dim, row-major, normalised by count - 1. */
  covariance: Float64Array;
}

/** Mean and covariance of `count` feature vectors of `dim` values each, stored one after another. */
export function featureStats(features: Float32Array, count: number, dim: number): FeatureStats {
  if (count < 2) throw new Error(`featureStats needs at least 2 feature vectors, got ${count}`);
  if (features.length !== count * dim) throw new Error(`featureStats: ${features.length} values are not ${count} vectors of ${dim}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += features[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= count;
  const covariance = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) centred[j] = features[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) covariance[a * dim + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = covariance[a * dim + b] / (count - 1);
      covariance[a * dim + b] = v;
      covariance[b * dim + a] = v;
    }
  }
  return { dim, count, mean, covariance };
}

/** The Frechet distance d^2 between two Gaussians (see the file's comment). */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  if (a.dim !== b.dim) throw new Error(`frechetDistance: features of ${a.dim} and ${b.dim} dimensions`);
  const n = a.dim;
  let meanTerm = 0;
  let traceA = 0;
  let traceB = 0;
  for (let j = 0; j < n; j++) {
    meanTerm += (a.mean[j] - b.mean[j]) ** 2;
    traceA += a.covariance[j * n + j];
    traceB += b.covariance[j * n + j];
  }
  const ridge = 1e-6 * Math.max(traceA / n, 1e-12);
  const l = cholesky(a.covariance, n, ridge);
  // M = L^T S_b L, symmetric positive semi-definite.
  const sl = multiply(b.covariance, l, n);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += l[k * n + i] * sl[k * n + j];
      m[i * n + j] = s;
    }
  }
  let traceSqrt = 0;
  for (const e of symmetricEigenvalues(m, n)) traceSqrt += Math.sqrt(Math.max(0, e));
  return Math.max(0, meanTerm + traceA + traceB - 2 * traceSqrt);
}

/** Lower-triangular L with L L^T = S + ridge I. */
function cholesky(s: Float64Array, n: number, ridge: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = s[i * n + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error('frechetDistance: the covariance is not positive definite (are the features finite?)');
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  return l;
}

function multiply(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/** Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (the input is not changed). */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(matrix);
  let total = 0;
  for (const v of a) total += v * v;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.4.1).
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i * n + i];
  return out;
}
