// Part A: sampling and editing over the DiffusionModel interface (src/lib/pretrained/model.ts).
export * from './timesteps';
export * from './forward-process';
export * from './blur';
export * from './classical';
export * from './one-step';
export * from './predictor';
export * from './loop';
export * from './iterative';
export * from './cfg';
export * from './sdedit';
export * from './inpaint';
export * from './anagram';
export * from './hybrid';
export * from './upsample';
export * from './text-to-image';
