// Putting a kernel of ours in front of one of the wasm backend's, keeping the backend's own for
// the cases ours does not take.
import { tf } from './tf';

const BACKEND = 'wasm';

/** The backend's own kernel functions that were replaced, by kernel name. */
const replaced = new Map<string, tf.KernelFunc | undefined>();

/**
 * Registers `kernelFunc` as the wasm kernel `name` and returns the kernel function it replaced
 * (undefined if there was none). The original's setupFunc is kept: it binds the wasm functions the
 * original kernel calls. Calling again with the same function changes nothing and returns the
 * same original.
 */
export function replaceWasmKernel(name: string, kernelFunc: tf.KernelFunc): tf.KernelFunc | undefined {
  const current = tf.getKernel(name, BACKEND);
  if (current !== undefined && current.kernelFunc === kernelFunc) return replaced.get(name);
  if (current !== undefined) tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc, setupFunc: current?.setupFunc });
  replaced.set(name, current?.kernelFunc);
  return current?.kernelFunc;
}
