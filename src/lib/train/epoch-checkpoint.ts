import * as fs from 'fs';
import { loadCheckpoint, saveCheckpointSync } from '../checkpoint';
import { Module } from '../nn/module';
import { Adam } from './adam';

/**
 * Per-epoch checkpoints for the small training loops outside the trainer (the judges): model,
 * optimiser and epochs done in one file, tagged with the training's settings so a file of other
 * settings is ignored. With each epoch's randomness derived from the seed and the epoch, a killed
 * training resumed from it ends with the same weights.
 */

/** Loads the state into model and optimiser when `file` holds one of the same `key`; returns the epochs done (0 otherwise). */
export function resumeEpochs(file: string, key: string, model: Module, optimizer: Adam): number {
  if (!fs.existsSync(file)) return 0;
  const ckpt = loadCheckpoint(file);
  if (ckpt.metadata.key !== key) return 0;
  model.loadState(ckpt.values, file);
  optimizer.loadState(ckpt.values, Number(ckpt.metadata.step), file);
  return Number(ckpt.metadata.epoch);
}

/** Saves the state after `epochsDone` epochs. */
export function saveEpochs(file: string, key: string, model: Module, optimizer: Adam, epochsDone: number): void {
  saveCheckpointSync(file, [...model.stateEntries(), ...optimizer.stateEntries()], {
    epoch: String(epochsDone),
    step: String(optimizer.step),
    key,
  });
}
