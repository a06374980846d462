/**
 * TensorFlow.js in Node: pick the fastest backend that loads here.
 * tfjs-node (native libtensorflow; an optional dependency that needs a download at install
 * time) → wasm (bundled .wasm files, SIMD + threads where available) → cpu (pure JS).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MloptError } from '../util/errors.js';

export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';
export type TfjsBackendChoice = 'auto' | TfjsBackendName;
type Tf = typeof import('@tensorflow/tfjs-core');

const require = createRequire(import.meta.url);
let chosen: { tf: Tf; backend: TfjsBackendName; notes: string[] } | undefined;

/** Load tfjs-core with the best (or the requested) backend; resolved once per process. */
export async function loadTfjs(choice: TfjsBackendChoice = 'auto', threads?: number): Promise<{ tf: Tf; backend: TfjsBackendName; notes: string[] }> {
  if (chosen && (choice === 'auto' || choice === chosen.backend)) return chosen;
  const tf = require('@tensorflow/tfjs-core') as Tf;
  const notes: string[] = [];
  const order: TfjsBackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  for (const name of order) {
    try {
      if (name === 'tensorflow') require('@tensorflow/tfjs-node');
      else if (name === 'wasm') {
        const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
        const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
        wasm.setWasmPaths(join(dir, '/'));
        if (threads !== undefined) wasm.setThreadsCount(threads);
      } else require('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not initialise`);
      await tf.ready();
      chosen = { tf, backend: name, notes };
      return chosen;
    } catch (err) {
      const why = ((err as Error).message ?? String(err)).split('\n')[0];
      notes.push(`tfjs backend ${name} unavailable: ${why}`);
      if (choice !== 'auto') throw new MloptError('RUNTIME', `tfjs backend "${name}" cannot be used here: ${why}`);
    }
  }
  throw new MloptError('RUNTIME', `no TensorFlow.js backend could be loaded (${notes.join('; ')})`);
}
