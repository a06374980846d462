/**
 * Run two artifacts on the same input and compare every output: the check behind
 * `mlopt convert` (each written artifact is run in the runtime that consumes it).
 */
import { loadModel, type LoadedModel } from '../formats/load.js';
import { feedInputs } from '../ir/graph.js';
import { type Tensor, isNumericData, toFloat32 } from '../ir/tensor.js';
import { createRunner } from '../runtime/index.js';
import { randomFeeds } from '../data/index.js';
import { maxAbsDiff } from '../bench/agreement.js';

export interface OutputComparison {
  name: string;
  shape: number[];
  bitwiseEqual: boolean;
  maxAbsDiff: number;
}

export async function compareModels(a: LoadedModel | string, b: LoadedModel | string, batch = 1, seed = 1): Promise<OutputComparison[]> {
  const ma = typeof a === 'string' ? await loadModel(a) : a;
  const mb = typeof b === 'string' ? await loadModel(b) : b;
  const feeds = randomFeeds(feedInputs(ma.graph), batch, seed);
  const ra = await createRunner(ma);
  const rb = await createRunner(mb);
  try {
    const oa = await ra.run(feeds);
    const ob = await rb.run(feeds);
    return [...oa.entries()].map(([name, ta]) => {
      const tb = ob.get(name) ?? [...ob.values()][[...oa.keys()].indexOf(name)];
      return compareTensors(name, ta, tb);
    });
  } finally {
    await ra.dispose();
    await rb.dispose();
  }
}

export function compareTensors(name: string, a: Tensor, b: Tensor | undefined): OutputComparison {
  if (!b || a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) {
    return { name, shape: a.shape, bitwiseEqual: false, maxAbsDiff: NaN };
  }
  if (!isNumericData(a.data) || !isNumericData(b.data)) {
    const eq = !isNumericData(a.data) && !isNumericData(b.data) && a.data.every((s, i) => Buffer.compare(s, (b.data as Uint8Array[])[i]!) === 0);
    return { name, shape: a.shape, bitwiseEqual: eq, maxAbsDiff: eq ? 0 : NaN };
  }
  const ba = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const bb = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  const bitwiseEqual = ba.equals(bb);
  let diff = 0;
  if (!bitwiseEqual) diff = a.dtype === 'bool' || a.dtype === 'string' ? NaN : maxAbsDiff(toFloat32(a), toFloat32(b));
  return { name, shape: a.shape, bitwiseEqual, maxAbsDiff: diff };
}
