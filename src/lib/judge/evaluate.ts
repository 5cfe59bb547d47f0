import { UNet } from '../nn/unet';
import { Rng } from '../random';
import { ddpmSample } from '../sample';
import { NoiseSchedule } from '../schedules';
import { DigitClassifier } from './classifier';

export interface ClassAccuracy {
  /** Share of all samples classified as the digit asked for. */
  overall: number;
  /** Per digit 0..9. */
  perClass: number[];
  samplesPerClass: number;
  guidance: number;
  seed: number;
  /** judge confusion: confusion[asked][predicted] counts. */
  confusion: number[][];
}

/**
 * How often class-conditioned CFG samples are classified by the judge as the digit they were
 * asked for (SPEC B2.5's "generated specific digits"), overall and per digit.
 */
export function evaluateClassConditioned(opts: {
  model: UNet;
  schedule: NoiseSchedule;
  judge: DigitClassifier;
  samplesPerClass: number;
  guidance?: number;
  seed: number;
  onStep?: (done: number, total: number) => void;
}): ClassAccuracy {
  const numClasses = opts.model.config.numClasses;
  const guidance = opts.guidance ?? 5;
  const classes: number[] = [];
  for (let c = 0; c < numClasses; c++) for (let k = 0; k < opts.samplesPerClass; k++) classes.push(c);
  const { images, count } = ddpmSample({
    model: opts.model, schedule: opts.schedule, classes, guidance, rng: new Rng(opts.seed), onStep: opts.onStep,
  });
  const pred = opts.judge.predict(images, count);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < count; i++) confusion[classes[i]][pred[i]] += 1;
  const perClass = confusion.map((row, c) => row[c] / opts.samplesPerClass);
  const overall = perClass.reduce((a, b) => a + b, 0) / numClasses;
  return { overall, perClass, samplesPerClass: opts.samplesPerClass, guidance, seed: opts.seed, confusion };
}
