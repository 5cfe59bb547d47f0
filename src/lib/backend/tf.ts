// The one TensorFlow.js namespace the library uses. Everything imports `tf` from here so that
// every op, kernel and gradient goes through the same @tensorflow/tfjs-core instance.
//
// tfjs-core keeps its engine, kernel registry and gradient registry on the global object, so a
// second copy of tfjs-core of the SAME version (e.g. one nested under @tensorflow/tfjs-node)
// shares them; a copy of a different version is refused by initBackend (see select.ts).
import * as tf from '@tensorflow/tfjs-core';

// tfjs-core's CommonJS bundle registers no gradients (its register_all_gradients module is
// ESM-only); the tfjs-layers bundle registers all of them when it is loaded. Node's module cache
// makes this happen once per process.
import '@tensorflow/tfjs-layers';

export { tf };
