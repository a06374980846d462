/**
 * TensorFlow.js runner: loads a tfjs graph model or layers model (model.json + weight shards)
 * from disk and runs it on the backend chosen by tfjs-backend.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { DType } from '../ir/dtype.js';
import type { Value } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { MloptError } from '../util/errors.js';
import type { Feeds, Runner, RunnerOptions } from './runner.js';
import { type TfjsBackendChoice, loadTfjs } from './tfjs-backend.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type TfTensor = import('@tensorflow/tfjs-core').Tensor;
type IOHandler = import('@tensorflow/tfjs-core').io.IOHandler;
type ModelArtifacts = import('@tensorflow/tfjs-core').io.ModelArtifacts;

const require = createRequire(import.meta.url);

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: import('@tensorflow/tfjs-core').io.WeightsManifestEntry[] }[];
  [k: string]: unknown;
}

/** An IOHandler that reads model.json and its shards from the local file system. */
export function fileHandler(modelJsonPath: string): IOHandler {
  return {
    load: async (): Promise<ModelArtifacts> => {
      let json: ModelJson;
      try {
        json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
      } catch (err) {
        throw new MloptError('CORRUPT_MODEL', `${modelJsonPath}: not valid JSON (${(err as Error).message})`);
      }
      if (!json.modelTopology) throw new MloptError('NOT_A_MODEL', `${modelJsonPath}: no modelTopology; not a TF.js model.json`);
      const dir = dirname(modelJsonPath);
      const specs = (json.weightsManifest ?? []).flatMap((g) => g.weights);
      const buffers = (json.weightsManifest ?? []).flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
      const data = new Uint8Array(total);
      let off = 0;
      for (const b of buffers) {
        data.set(b, off);
        off += b.byteLength;
      }
      const { modelTopology, weightsManifest: _w, ...rest } = json;
      return { ...(rest as object), modelTopology: modelTopology as object, weightSpecs: specs, weightData: data.buffer } as ModelArtifacts;
    },
  };
}

interface Predictor {
  predict(x: TfTensor | TfTensor[] | Record<string, TfTensor>): TfTensor | TfTensor[] | Record<string, TfTensor>;
  dispose?(): void;
}

export async function createTfjsRunner(
  modelJsonPath: string,
  inputs: Value[],
  outputs: Value[],
  opts: RunnerOptions & { backend?: TfjsBackendChoice } = {},
): Promise<Runner> {
  if (opts.device === 'gpu') {
    throw new MloptError('RUNTIME', '--device gpu is not available for TF.js models in Node', 'run TF.js models on cpu, or convert the model to ONNX and use onnxruntime with CUDA');
  }
  const { tf, backend } = await loadTfjs(opts.backend ?? 'auto', opts.threads);
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  const handler = fileHandler(modelJsonPath);
  let model: Predictor;
  if (json.format === 'graph-model' || (json.modelTopology as { node?: unknown })?.node) {
    const conv = require('@tensorflow/tfjs-converter') as typeof import('@tensorflow/tfjs-converter');
    model = (await conv.loadGraphModel(handler)) as unknown as Predictor;
  } else {
    const layers = require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
    model = (await layers.loadLayersModel(handler)) as unknown as Predictor;
  }
  return new TfjsRunner(tf, model, backend, inputs, outputs);
}

class TfjsRunner implements Runner {
  readonly engine = 'tfjs';
  readonly version: string;
  readonly device = 'cpu' as const;
  constructor(
    private readonly tf: Tf,
    private readonly model: Predictor,
    readonly backend: string,
    readonly inputs: Value[],
    readonly outputs: Value[],
  ) {
    this.version = tf.version_core;
  }

  prepare(feeds: Feeds): TfTensor[] {
    return this.inputs.map((v) => {
      const t = feeds.get(v.name);
      if (!t) throw new MloptError('DATA', `no data for model input "${v.name}"`);
      // TF.js has no int64: it reads int64 weights and inputs as int32, and so does mlopt
      if (t.dtype === 'int64') return this.tf.tensor(Int32Array.from(t.data as BigInt64Array, Number), t.shape, 'int32');
      return this.tf.tensor(t.data as Float32Array, t.shape, tfDtype(t.dtype));
    });
  }

  /** The model's outputs as a list, whatever form predict() returns them in. */
  private predict(xs: TfTensor[]): TfTensor[] {
    const y = this.model.predict(xs.length === 1 ? xs[0]! : xs);
    return Array.isArray(y) ? y : y instanceof this.tf.Tensor ? [y] : Object.values(y);
  }

  async runPrepared(prepared: unknown): Promise<unknown> {
    const list = this.predict(prepared as TfTensor[]);
    await Promise.all(list.map((t) => t.data()));
    for (const t of list) t.dispose();
    return undefined;
  }

  async run(feeds: Feeds): Promise<Map<string, Tensor>> {
    const xs = this.prepare(feeds);
    try {
      const list = this.predict(xs);
      const out = new Map<string, Tensor>();
      for (let i = 0; i < list.length; i++) {
        const t = list[i]!;
        const name = this.outputs[i]?.name ?? `output_${i}`;
        const data = await t.data();
        out.set(name, { dtype: fromTfDtype(t.dtype), shape: t.shape.slice(), data: data as Float32Array });
        t.dispose();
      }
      return out;
    } finally {
      for (const x of xs) x.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.model.dispose?.();
  }
}

function tfDtype(d: DType): 'float32' | 'int32' | 'bool' {
  if (d === 'float32') return 'float32';
  if (d === 'int32') return 'int32';
  if (d === 'bool') return 'bool';
  throw new MloptError('UNSUPPORTED', `TF.js cannot take ${d} inputs; supported: float32, int32, bool`);
}

function fromTfDtype(d: string): DType {
  if (d === 'float32' || d === 'int32' || d === 'bool') return d;
  throw new MloptError('UNSUPPORTED', `TF.js output dtype ${d} is not supported`);
}
