/**
 * One interface for every engine that runs a model artifact: load → run(feeds) → outputs.
 * `prepare` + `runPrepared` let the benchmark time exactly the engine call, with feeds
 * converted to the engine's own tensors once, outside the timed loop.
 */
import type { Value } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';

export type Device = 'cpu' | 'gpu';

export interface RunnerOptions {
  device?: Device;
  /** intra-op threads; undefined = the engine's default */
  threads?: number;
}

export type Feeds = Map<string, Tensor>;

export interface Runner {
  /** 'onnxruntime', 'tfjs', 'litert' */
  readonly engine: string;
  /** engine version */
  readonly version: string;
  /** e.g. 'cpu' (ORT CPU EP), 'cuda', 'wasm', 'tensorflow' */
  readonly backend: string;
  readonly device: Device;
  readonly inputs: Value[];
  readonly outputs: Value[];
  /** what the engine did that a user should know (an option it ignored, the build it loaded...) */
  readonly notes?: readonly string[];
  run(feeds: Feeds): Promise<Map<string, Tensor>>;
  /** Convert feeds to the engine's tensors. May return a promise (LiteRT.js compiles the model for
   *  the feeds' batch size here): await it before timing `runPrepared`. */
  /** may return a promise (LiteRT compiles a model per batch size): await it */
  prepare(feeds: Feeds): unknown;
  runPrepared(prepared: unknown): Promise<unknown>;
  dispose(): Promise<void>;
}
