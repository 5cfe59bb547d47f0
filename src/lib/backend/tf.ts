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

/**
 * Throws a message that names the fix when no backend is registered at all: tfjs would fail
 * later with a bare "No backend found in registry". Called where a user's first tensors are
 * made (every model's constructor, image inputs). A backend the caller registered and set up
 * without initBackend (e.g. by importing @tensorflow/tfjs-node) counts.
 */
export function requireBackend(what: string): void {
  if (tf.engine().backendNames().length > 0) return;
  throw new Error(
    `${what} needs a TensorFlow.js backend, and none is set up yet: call \`await initBackend()\` (exported by this library) once, before creating models or images.`,
  );
}
