/**
 * Calibration: run the float graph in onnxruntime with every tensor that needs a range
 * exposed as an extra output, and feed the values to range observers (one or two passes).
 */
import type { Graph } from '../../ir/graph.js';
import { feedInputs } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import type { PreparedData } from '../../data/index.js';
import { exportOnnxBytes } from '../../formats/onnx/export.js';
import { createOnnxRunner } from '../../runtime/onnxruntime.js';
import type { Runner, RunnerOptions } from '../../runtime/runner.js';
import { MloptError } from '../../util/errors.js';
import { type CalibrationOptions, RangeObserver } from './calibrate.js';
import { copyGraph } from '../../ir/edit.js';
import type { Range } from './static.js';

/** A runner over `g` whose outputs are the graph's own plus `extra` tensors. */
export async function runnerWithOutputs(g: Graph, extra: string[], opts: RunnerOptions = {}): Promise<Runner> {
  const a = copyGraph(g);
  const have = new Set(a.outputs.map((o) => o.name));
  for (const t of extra) if (!have.has(t)) a.outputs.push({ name: t, dtype: 'float32' });
  return createOnnxRunner(exportOnnxBytes(a), feedInputs(a), a.outputs, opts);
}

export interface CalibrationResult {
  ranges: Map<string, Range>;
  observers: Map<string, RangeObserver>;
  samples: number;
  passes: number;
  ms: number;
}

function data32(t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new MloptError('RUNTIME', `internal: calibration tensor is ${t.dtype}, expected float32`);
  return t.data;
}

export async function calibrate(g: Graph, tensors: string[], data: PreparedData, opts: CalibrationOptions, runnerOpts: RunnerOptions = {}, onProgress?: (m: string) => void): Promise<CalibrationResult> {
  const t0 = performance.now();
  const observers = new Map(tensors.map((t) => [t, new RangeObserver(opts)]));
  const runner = await runnerWithOutputs(g, tensors, runnerOpts);
  let passes = 1;
  try {
    onProgress?.(`calibrating (${opts.method}) on ${data.count} samples`);
    for (const b of data.batches()) {
      const out = await runner.run(b.feeds);
      for (const [t, o] of observers) {
        const v = out.get(t);
        if (v) o.observe(data32(v));
      }
    }
    if ([...observers.values()].some((o) => o.needsSecondPass)) {
      passes = 2;
      onProgress?.(`calibrating (${opts.method}): histogram pass`);
      for (const b of data.batches()) {
        const out = await runner.run(b.feeds);
        for (const [t, o] of observers) {
          const v = out.get(t);
          if (v && o.needsSecondPass) o.observeHistogram(data32(v));
        }
      }
    }
  } finally {
    await runner.dispose();
  }
  const ranges = new Map<string, Range>();
  for (const [t, o] of observers) {
    if (o.nonFinite > 0) {
      throw new MloptError('DATA', `the float model produces ${o.nonFinite} NaN/Inf value(s) in tensor "${t}" on the calibration data`, 'check the data scaling (--scale) and the model');
    }
    ranges.set(t, o.range());
  }
  return { ranges, observers, samples: data.count, passes, ms: performance.now() - t0 };
}
