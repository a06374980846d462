/**
 * onnxruntime-node runner: CPU execution provider by default, CUDA with device 'gpu'.
 */
import { createRequire } from 'node:module';
import type { Value } from '../ir/graph.js';
import type { DType } from '../ir/dtype.js';
import type { Tensor } from '../ir/tensor.js';
import { isNumericData } from '../ir/tensor.js';
import { MloptError } from '../util/errors.js';
import type { Device, Feeds, Runner, RunnerOptions } from './runner.js';

type Ort = typeof import('onnxruntime-node');
type OrtSession = import('onnxruntime-node').InferenceSession;
type OrtTensor = import('onnxruntime-node').Tensor;

const require = createRequire(import.meta.url);
let ortModule: Ort | undefined;

function ort(): Ort {
  if (!ortModule) {
    ortModule = require('onnxruntime-node') as Ort;
    // errors reach the user as one MloptError line; ORT's own native log would repeat them.
    ortModule.env.logLevel = 'fatal';
  }
  return ortModule;
}

/** IR dtype → ORT tensor type name (they differ only for bool/float16/float64 spellings). */
const ORT_TYPES: Partial<Record<DType, string>> = {
  float32: 'float32', float16: 'float16', float64: 'float64', int8: 'int8', uint8: 'uint8', int16: 'int16',
  uint16: 'uint16', int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64', bool: 'bool', string: 'string',
};

const FROM_ORT: Record<string, DType> = {
  float32: 'float32', float16: 'float16', float64: 'float64', int8: 'int8', uint8: 'uint8', int16: 'int16',
  uint16: 'uint16', int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64', bool: 'bool', string: 'string',
};

export const GPU_HINT =
  'install the CUDA binaries of onnxruntime-node: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` ' +
  'on a machine with an NVIDIA driver, CUDA 12 and cuDNN 9 (see README, "GPU")';

export async function createOnnxRunner(model: Uint8Array | string, inputs: Value[], outputs: Value[], opts: RunnerOptions = {}): Promise<Runner> {
  const device: Device = opts.device ?? 'cpu';
  const o = ort();
  const options: import('onnxruntime-node').InferenceSession.SessionOptions = {
    executionProviders: device === 'gpu' ? ['cuda'] : ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
  };
  if (opts.threads !== undefined) {
    options.intraOpNumThreads = opts.threads;
    options.interOpNumThreads = 1;
  }
  let session: OrtSession;
  try {
    session = await (typeof model === 'string' ? o.InferenceSession.create(model, options) : o.InferenceSession.create(model, options));
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n')[0];
    if (device === 'gpu') throw new MloptError('RUNTIME', `--device gpu: onnxruntime could not start CUDA (${msg})`, GPU_HINT);
    throw new MloptError('RUNTIME', `onnxruntime could not load the model: ${msg}`);
  }
  return new OnnxRunner(session, inputs, outputs, device);
}

/** A runner over a session the caller created (used to time mlopt's loop against a bare one). */
export function onnxRunnerFromSession(session: OrtSession, inputs: Value[], outputs: Value[], device: Device = 'cpu'): Runner {
  ort();
  return new OnnxRunner(session, inputs, outputs, device);
}

class OnnxRunner implements Runner {
  readonly engine = 'onnxruntime';
  readonly version: string;
  readonly backend: string;
  constructor(
    private readonly session: OrtSession,
    readonly inputs: Value[],
    readonly outputs: Value[],
    readonly device: Device,
  ) {
    this.version = ort().env.versions.node ?? 'unknown';
    this.backend = device === 'gpu' ? 'cuda' : 'cpu';
  }

  prepare(feeds: Feeds): Record<string, OrtTensor> {
    const o = ort();
    const out: Record<string, OrtTensor> = {};
    for (const name of this.session.inputNames) {
      const t = feeds.get(name);
      if (!t) throw new MloptError('DATA', `no data for model input "${name}"`);
      const type = ORT_TYPES[t.dtype];
      if (!type) throw new MloptError('UNSUPPORTED', `onnxruntime-node cannot take ${t.dtype} input "${name}"`);
      const data = t.dtype === 'bool' && isNumericData(t.data) ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length) : t.data;
      out[name] = new o.Tensor(type as 'float32', data as Float32Array, t.shape);
    }
    return out;
  }

  async runPrepared(prepared: unknown): Promise<unknown> {
    return this.session.run(prepared as Record<string, OrtTensor>);
  }

  async run(feeds: Feeds): Promise<Map<string, Tensor>> {
    let res: Record<string, OrtTensor>;
    try {
      res = (await this.session.run(this.prepare(feeds))) as Record<string, OrtTensor>;
    } catch (err) {
      if (err instanceof MloptError) throw err;
      throw new MloptError('RUNTIME', `onnxruntime failed to run the model: ${((err as Error).message ?? String(err)).split('\n')[0]}`);
    }
    const out = new Map<string, Tensor>();
    for (const name of this.session.outputNames) {
      const t = res[name];
      if (!t) continue;
      const dtype = FROM_ORT[t.type];
      if (!dtype) throw new MloptError('UNSUPPORTED', `output "${name}" has type ${t.type}, which mlopt cannot read`);
      let data = t.data as Tensor['data'];
      if (dtype === 'string') data = (t.data as string[]).map((s) => new TextEncoder().encode(s));
      out.set(name, { dtype, shape: t.dims.map(Number), data });
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
