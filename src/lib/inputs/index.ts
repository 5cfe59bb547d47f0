// Part A's inputs: the test image and own photos, the web image, the sketches, masks, a user's
// own PNG, the prompts per model, and the model a notebook's parameters choose.
export * from './pixels';
export * from './photos';
export * from './strokes';
export * from './sketches';
export * from './web-image';
export * from './images';
export * from './user-image';
export * from './prompts';
export * from './settings';
export * from './setup';
