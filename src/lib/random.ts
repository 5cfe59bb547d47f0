/**
 * A small seeded random generator (xoshiro128**), passed explicitly wherever randomness is
 * needed. All noise is drawn here, in JavaScript, rather than by the TF.js backend, so the same
 * seed gives the same numbers on every backend, and the state can be saved with a checkpoint.
 */
export class Rng {
  private s: Uint32Array;
  /** A spare normal deviate from the last Box-Muller pair. */
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    this.s = new Uint32Array(4);
    // splitmix32 spreads one seed over the four state words.
    let z = (Math.floor(seed) >>> 0) ^ Math.floor(seed / 2 ** 32);
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** The generator's whole state, to store in a checkpoint. */
  getState(): number[] {
    return [...this.s, this.spare === null ? Number.NaN : this.spare];
  }

  static fromState(state: readonly number[]): Rng {
    if (state.length !== 5) throw new Error(`Rng.fromState: expected 5 numbers, got ${state.length}`);
    const r = new Rng(0);
    for (let i = 0; i < 4; i++) r.s[i] = state[i] >>> 0;
    r.spare = Number.isNaN(state[4]) ? null : state[4];
    return r;
  }

  /** An independent generator derived from this one's seed stream and a label. */
  fork(label: string): Rng {
    let h = 2166136261;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619) >>> 0;
    return new Rng((this.nextUint32() ^ h) + this.nextUint32() * 2 ** 21);
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal deviate (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  normalArray(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A seed derived from a base seed and labels, e.g. deriveSeed(seed, 'shuffle', epoch): each
 * epoch's shuffling and noise get their own stream, so a run resumed at an epoch boundary
 * draws exactly what an uninterrupted run would have drawn.
 */
export function deriveSeed(seed: number, ...parts: Array<string | number>): number {
  let h = 2166136261 ^ (seed >>> 0);
  h = Math.imul(h, 16777619) >>> 0;
  h = (h ^ Math.floor(seed / 2 ** 32)) >>> 0;
  for (const part of parts) {
    const s = String(part);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
    h = Math.imul(h ^ 0x2f, 16777619) >>> 0;
  }
  return h;
}
