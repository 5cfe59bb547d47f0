import { JUDGE_SIZE } from '../../src/writeup/judge/emoji-judge';
import { Rng } from '../../src/lib/random';

/** 24 random 32x32 images of 3 classes and a 3-epoch config (for the emoji judge's resume test). */
export function tinyEmojiSet(): {
  images: Float32Array;
  labels: Int32Array;
  classes: string[];
  config: { epochs: number; batchSize: number; lr: number; seed: number };
} {
  const rng = new Rng(4);
  return {
    images: Float32Array.from({ length: 24 * JUDGE_SIZE * JUDGE_SIZE * 3 }, () => rng.uniform()),
    labels: Int32Array.from({ length: 24 }, (_, i) => i % 3),
    classes: ['a', 'b', 'c'],
    config: { epochs: 3, batchSize: 8, lr: 2e-3, seed: 0 },
  };
}
