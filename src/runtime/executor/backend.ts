/**
 * The tfjs instance and backend an executor runs on, and the registrations training needs.
 */
import { createRequire } from 'node:module';
import { type TfjsBackendChoice, loadTfjs } from '../tfjs-backend.js';
import type { Tf } from './types.js';

const require = createRequire(import.meta.url);

/** The requested backend: switched to directly when tfjs already has it, else loaded. */
export async function acquireBackend(choice: TfjsBackendChoice, threads?: number): Promise<{ tf: Tf; backend: string }> {
  const tf = require('@tensorflow/tfjs-core') as Tf;
  if (choice !== 'auto' && tf.findBackend(choice)) {
    if (tf.getBackend() !== choice) await tf.setBackend(choice);
    return { tf, backend: choice };
  }
  const r = await loadTfjs(choice, threads);
  return { tf: r.tf, backend: r.backend };
}

/**
 * tfjs-core's node bundle registers no gradient functions; tfjs-layers' bundle registers all of
 * them in the registry every tfjs-core copy shares (a side effect of loading it).
 */
export function registerGradients(tf: Tf): void {
  if (!tf.getGradient('Mean')) require('@tensorflow/tfjs-layers');
  // Comparisons and logic have no gradient in tfjs, so a tape through Where(Greater(x, …), …)
  // fails; their gradient is zero (piecewise-constant outputs)
  for (const [kernel, inputs] of ZERO_GRADIENTS) {
    if (tf.getGradient(kernel)) continue;
    tf.registerGradient({
      kernelName: kernel,
      inputsToSave: inputs,
      gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zerosLike(saved[i]!)])),
    });
  }
}

const BINARY = ['a', 'b'];
const ZERO_GRADIENTS: Array<[string, string[]]> = [
  ['Greater', BINARY], ['GreaterEqual', BINARY], ['Less', BINARY], ['LessEqual', BINARY], ['Equal', BINARY], ['NotEqual', BINARY],
  ['LogicalAnd', BINARY], ['LogicalOr', BINARY], ['LogicalXor', BINARY], ['LogicalNot', ['x']], ['IsNan', ['x']], ['IsInf', ['x']],
  ['ArgMax', ['x']], ['ArgMin', ['x']],
];

/** The wasm backend lacks some gradient kernels; tfjs-wasm-grads.ts registers fast ones (when present). */
export async function registerWasmGrads(tf: Tf): Promise<boolean> {
  const spec = '../tfjs-wasm-grads.js';
  try {
    const m = (await import(spec)) as { registerWasmGradKernels?: (t: Tf) => void };
    m.registerWasmGradKernels?.(tf);
    return !!m.registerWasmGradKernels;
  } catch {
    return false;
  }
}
