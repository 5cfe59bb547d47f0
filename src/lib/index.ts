/**
 * The library's public API in one import, for notebooks and users:
 *   import * as dl from './src/lib/index';        (notebooks, code in this repository)
 *   import { forward } from 'diffusion-ts';       (another project: the packed library, dist/lib)
 * Everything a user calls is here with the types its signatures name; modules' other exports
 * (kernels, workers, test hooks) are internal.
 */
export { tf } from './backend/tf';
export { initBackend, backendInfo, describeBackend, BACKEND_CHOICES, type BackendInfo, type BackendChoice, type InitBackendOptions } from './backend/select';
export { Rng, deriveSeed } from './random';
export * from './noise-schedules';
export * from './scheduler';
export { loadMnist, DIGIT_CLASSES, type LoadMnistOptions } from './data/mnist';
export { loadFashionMnist, FASHION_CLASSES } from './data/fashion';
export { subset, takePerClass, type ImageDataset, type DatasetSplits, type Labels } from './data/dataset';
export { UNet, type UNetConfig, type Conditioning } from './nn/unet';
export { loadCheckpoint, saveCheckpoint, saveCheckpointSync, type LoadedCheckpoint, type StateValues } from './checkpoint';
export {
  readSafetensorsFile,
  writeSafetensorsFile,
  readSafetensorsHeader,
  encodeSafetensors,
  decodeSafetensors,
  type NamedTensor,
  type SafeDType,
  type SafetensorsHeader,
  type TensorInfo,
} from './io/safetensors';
export { exportTorchUNet, importTorchUNet, unetFromCheckpoint } from './train/torch-unet';
export { exportTorchCascade, importTorchCascade, stage1DataFile } from './train/torch-cascade';
export {
  permuteAxes,
  tfjsToTorch,
  torchToTfjs,
  toTorchState,
  modelTorchState,
  fromTorchState,
  stateSpec,
  detectLayout,
  type CheckpointLayout,
} from './io/torch-layout';
export { type TrainConfig, type ModelKind, type PixelRange, MODEL_KINDS, defaultTrainConfig, learningRateAt, learningRateAtStep } from './train/config';
export { createModel, createNetwork, scheduleFor, type TrainableNet } from './train/networks';
export {
  train,
  trainNetwork,
  plannedRunDir,
  loadTrainedModel,
  loadTrainedNetwork,
  readLossLog,
  runFiles,
  type LossRecord,
  type RunMetadata,
  type TrainResult,
} from './train/trainer';
export { createProgress, stepProgress, type ProgressCallback, type ProgressEvent } from './progress';
export { ddpmSample, samplingTimesteps, type DdpmSampleOptions, type DdpmSampleResult } from './sample';
export { denoiseAtSigma } from './single-step-denoiser';
export { imageGrid, hconcat, vconcat, type GridOptions } from './display/grid';
export { encodePng, decodePng, type PixelImage } from './display/png';
export { encodeGif, type GifOptions } from './display/gif';
export { type RgbImage, type FloatImages, toRgb8, upscaleNearest } from './display/image';
export { tensorGrid, tensorImages, cellScale, maskAsImages, interleaveColumns } from './display/tensor-grid';
export { type Pixels, checkPixels, resize, centerCropSquare, toChannels, toModelInput, checkSize, MAX_INPUT_SIZE } from './images/pixels';
export { loadUserImage, userImageFromBytes, MAX_USER_IMAGE_BYTES, MAX_USER_IMAGE_PIXELS } from './images/user-image';
export { type Stroke, rasteriseStrokes } from './images/strokes';
export { lossCurveSpec, accuracyBarsSpec, frechetBarsSpec, guidanceSweepSpec, type VegaLiteSpec } from './display/charts';
export * from './pipelines/index';
export { type DiffusionModel, type ModelOutput, PromptDictionary } from './pretrained/model';
export { BuiltinModel, loadBuiltinDigitsModel, loadBuiltinModel, builtinPrompts, builtinWeightsFile } from './pretrained/builtin';
export { BUILTIN_PROMPTS, DIGIT_PROMPTS, FASHION_PROMPTS, GENERIC_PROMPT, UNCONDITIONAL_PROMPT } from './pretrained/builtin-spec';
export { type PromptEncoder, type SuperResolutionModel } from './pretrained/model';
export {
  EmojiTextToImage,
  EmojiPrompts,
  EmojiUpsampler,
  loadBuiltinColourModel,
  loadEmojiCascade,
  loadEmojiStage1,
  type BuiltinColourModel,
} from './pretrained/emoji-model';
export { stage1Config, stage2Config, emojiTrainingSet, emojiVocabulary } from './pretrained/emoji-spec';
export { loadEmojiImages, GENERATOR_STYLES, JUDGE_STYLES, EMOJI_STYLE_SOURCES, type EmojiImages, type EmojiStyle, type LoadEmojiOptions } from './data/emoji';
export { Vocabulary, UnknownWordsError, words } from './text/tokenizer';
export { composeCaption, CAPTION_FRAMES } from './text/captions';
export { CascadeUNet, type CascadeUNetConfig } from './nn/cascade-unet';
export { TextEncoder, type TextEncoderConfig } from './nn/text-encoder';
export { TextToImageNet } from './nn/text-to-image';
export { loadDeepFloydIF, DeepFloydIFModel } from './pretrained/deepfloyd/if-model';
export { loadPromptEmbeddings } from './pretrained/deepfloyd/prompt-embeddings';
