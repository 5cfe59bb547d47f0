/**
 * The library's public API in one import, for notebooks and users:
 *   import * as dl from './src/lib/index';
 */
export { tf } from './backend/tf';
export { initBackend, backendInfo, type BackendInfo } from './backend/select';
export { Rng, deriveSeed } from './random';
export * from './schedules';
export { loadMnist } from './data/mnist';
export { loadFashionMnist } from './data/fashion';
export { subset, takePerClass, type ImageDataset, type DatasetSplits } from './data/dataset';
export { UNet, type UNetConfig, type Conditioning } from './nn/unet';
export { loadCheckpoint, saveCheckpoint } from './checkpoint';
export { type TrainConfig, type ModelKind, MODEL_KINDS, defaultTrainConfig, learningRateAt } from './train/config';
export { train, plannedRunDir, loadTrainedModel, readLossLog, createModel, scheduleFor, runFiles, type LossRecord, type RunMetadata, type TrainResult } from './train/trainer';
export { createProgress, type ProgressCallback, type ProgressEvent } from './train/progress';
export { ddpmSample, type DdpmSampleResult } from './sample';
export { denoiseAtSigma } from './denoise';
export { loadOrTrainJudge, DigitClassifier } from './judge/classifier';
export { evaluateClassConditioned, type ClassAccuracy } from './judge/evaluate';
export { PROFILES, PROFILE_NAMES, getProfile, trainConfigFor, type Profile, type ProfileName } from './profiles';
export * from './figures/partb';
export { imageGrid, hconcat, vconcat } from './display/grid';
export { encodePng, decodePng } from './display/png';
export { encodeGif } from './display/gif';
export { type RgbImage, type FloatImages, toRgb8, upscaleNearest } from './display/image';
export { lossCurveSpec, accuracyBarsSpec, type VegaLiteSpec } from './display/charts';
export * from './pipelines/index';
export { type DiffusionModel, type ModelOutput, PromptDictionary } from './pretrained/model';
export { BuiltinModel, loadBuiltinModel, builtinPrompts } from './pretrained/builtin';
export { BUILTIN_PROMPTS, DIGIT_PROMPTS, FASHION_PROMPTS, GENERIC_PROMPT, UNCONDITIONAL_PROMPT } from './pretrained/builtin-spec';
export { loadDeepFloydIF, DeepFloydIFModel } from './pretrained/deepfloyd/if-model';
export { loadPromptEmbeddings } from './pretrained/deepfloyd/prompt-embeddings';
export * from './inputs/index';
export * from './figures/parta';
