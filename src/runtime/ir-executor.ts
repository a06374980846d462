/**
 * Runs and trains an IR graph with TensorFlow.js ops, in process, on the tfjs backend chosen by
 * tfjs-backend.ts (tfjs-node → wasm → cpu). Used by prune and distill (fine-tuning), and to
 * evaluate a transformed graph before it is written.
 *
 *  - create() prepares the graph (NHWC layout, op check: an op without a kernel is refused
 *    here, by name) and compiles the inference program; weights become tf.Variables.
 *  - run() executes the inference program: BatchNormalization on moving statistics, Dropout off,
 *    weight-only steps (dequantized / re-laid-out weights, BN folded into convolutions) cached
 *    until the weights change.
 *  - trainStep() / fit() run the training program under tf.variableGrads: BN on batch
 *    statistics with moving-average updates, Dropout on, QDQ as fake quantization with a
 *    straight-through gradient; Keras 2 losses and optimizers (executor/losses.ts,
 *    executor/optimizers.ts); masks (setMask) keep pruned weights at zero.
 *  - toGraph() returns the user's graph with the trained weights and BN statistics.
 *
 * This file is the public API in one class (hence its ~450 lines); the pieces it orchestrates
 * live in runtime/executor/: prepare (graph → working graph), fuse, program (compile + run),
 * ops/ (the op table, by category), losses, optimizers, fit (training loop, evaluation),
 * batches, tensors (IR ⇄ tfjs data), backend.
 */
import { createRequire } from 'node:module';
import { isFloatDType } from '../ir/dtype.js';
import type { Graph, Value } from '../ir/graph.js';
import { feedInputs } from '../ir/graph.js';
import { copyGraph } from '../ir/edit.js';
import { graphOpset, inferGraphTypes } from '../ir/ops/index.js';
import type { ValueType } from '../ir/ops/index.js';
import { type Tensor, elementCount, toFloat32 } from '../ir/tensor.js';
import { MloptError, errorText } from '../util/errors.js';
import { acquireBackend, registerGradients, registerWasmGrads } from './executor/backend.js';
import { seededRandom } from './executor/batches.js';
import {
  type EvalResult, type FitConfig, type FitResult, type TrainBatch, type TrainConfig, type TrainData,
  asMap, evaluateLoop, fitLoop, labelsTensor,
} from './executor/fit.js';
import { lossValue, rowsAreDistributions } from './executor/losses.js';
import { Optimizer, type OptimizerConfig } from './executor/optimizers.js';
import { type PreparedGraph, prepareGraph } from './executor/prepare.js';
import { ConstStore, Program, Runtime, StaticCache, tensorToTf } from './executor/program.js';
import { fromTf, requantize, toDType } from './executor/tensors.js';
import { isHost, type Tf, type TfTensor, type TfVariable } from './executor/types.js';
import { tfDType } from './executor/host.js';
import type { Feeds, Runner } from './runner.js';
import type { TfjsBackendChoice } from './tfjs-backend.js';

const require = createRequire(import.meta.url);

export interface ExecutorOptions {
  backend?: TfjsBackendChoice;
  threads?: number;
  /** make the int8 weights of a quantized (QDQ) graph trainable: quantization-aware training */
  trainQuantizedWeights?: boolean;
  /** initializers to train (default: the float weights the graph's compute ops read) */
  trainable?: string[];
  /** convert channels-first nodes to NHWC once (default true); false keeps them, each kernel
   *  transposing around its op (slower; for debugging) */
  convertLayout?: boolean;
  /** seed of the Dropout masks (default 1) */
  seed?: number;
}

export type { EpochLog, EvalResult, FitConfig, FitResult, TrainBatch, TrainConfig, TrainData } from './executor/fit.js';

/** A feed must have the input's rank and its fixed dimensions (symbolic ones take any size). */
function checkFeedShape(value: Value, shape: readonly number[]): void {
  const want = value.shape;
  if (!want) return;
  const bad = want.length !== shape.length || want.some((d, i) => typeof d === 'number' && d >= 0 && d !== shape[i]);
  if (bad) {
    const fmt = (s: readonly (number | string)[]) => `[${s.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : '?')).join(',')}]`;
    throw new MloptError('SHAPE_MISMATCH', `model input "${value.name}" expects shape ${fmt(want as (number | string)[])}, got ${fmt(shape)}`);
  }
}

export class IrExecutor {
  private readonly consts: ConstStore;
  private readonly vars = new Map<string, TfVariable>();
  private readonly masks = new Map<string, TfTensor>();
  private readonly types: Map<string, ValueType>;
  private readonly cache = new StaticCache();
  private inferProgram!: Program;
  private trainProgram?: Program;
  private optimizer?: Optimizer;
  private version = 0;
  private readonly rand: () => number;
  private disposed = false;

  private constructor(
    private readonly tf: Tf,
    readonly backend: string,
    private readonly original: Graph,
    private readonly prepared: PreparedGraph,
    opts: ExecutorOptions,
  ) {
    this.consts = new ConstStore(tf);
    this.rand = seededRandom(opts.seed ?? 1);
    this.types = inferGraphTypes(prepared.graph).types;
  }

  static async create(graph: Graph, opts: ExecutorOptions = {}): Promise<IrExecutor> {
    const prepared = prepareGraph(graph, { trainQuantizedWeights: opts.trainQuantizedWeights, trainable: opts.trainable, convertLayout: opts.convertLayout });
    const { tf, backend } = await acquireBackend(opts.backend ?? 'auto', opts.threads);
    if (backend === 'wasm') await registerWasmGrads(tf);
    const ex = new IrExecutor(tf, backend, graph, prepared, opts);
    try {
      ex.makeVariables();
      ex.inferProgram = ex.compile('infer');
    } catch (err) {
      ex.dispose();
      throw err;
    }
    return ex;
  }

  private makeVariables(): void {
    const g = this.prepared.graph;
    const trainable = new Set(this.prepared.trainable);
    for (const name of [...this.prepared.trainable, ...this.prepared.state]) {
      if (this.vars.has(name)) continue;
      const t = g.initializers.get(name)!;
      const init = this.tf.tensor(toFloat32(t), t.shape, 'float32');
      this.vars.set(name, this.tf.variable(init, trainable.has(name)));
      init.dispose();
    }
  }

  private compile(mode: 'infer' | 'train'): Program {
    return new Program({
      tf: this.tf,
      graph: this.prepared.graph,
      types: this.types,
      opset: graphOpset(this.prepared.graph),
      mode,
      variables: this.vars,
      consts: this.consts,
      seeds: () => Math.floor(this.rand() * 2147483647),
    });
  }

  private async activate(): Promise<void> {
    if (this.disposed) throw new MloptError('USAGE', 'this IR executor was disposed');
    if (this.tf.getBackend() !== this.backend) await this.tf.setBackend(this.backend);
  }

  /** The graph's feed inputs and outputs. */
  get inputs(): Value[] {
    return feedInputs(this.original);
  }
  get outputs(): Value[] {
    return this.original.outputs;
  }

  private feedTensors(prog: Program, inputs: Map<string, Tensor>): Map<number, TfTensor> {
    const m = new Map<number, TfTensor>();
    for (const { value, slot } of prog.feeds) {
      const t = inputs.get(value.name);
      if (!t) throw new MloptError('DATA', `no data for model input "${value.name}"`);
      checkFeedShape(value, t.shape);
      const want = tfDType(value.dtype);
      const tt = tensorToTf(this.tf, t, value.name);
      m.set(slot, tt.dtype === want ? tt : this.tf.cast(tt, want));
    }
    return m;
  }

  /** Inference: outputs by graph output name. */
  async run(feeds: Record<string, Tensor> | Map<string, Tensor>): Promise<Record<string, Tensor>> {
    await this.activate();
    const outs = this.runTensors(asMap(feeds));
    const res: Record<string, Tensor> = {};
    try {
      for (const [i, o] of this.original.outputs.entries()) {
        const t = outs[i]!;
        const data = (await t.data()) as unknown as ArrayLike<number>;
        res[o.name] = fromTf(data, [...t.shape], o.dtype ?? this.types.get(o.name)?.dtype);
      }
    } finally {
      for (const t of outs) t.dispose();
    }
    return res;
  }

  /** Inference on tfjs tensors, synchronously; the caller disposes the returned tensors. */
  runTensors(feeds: Map<string, Tensor> | Map<string, TfTensor>): TfTensor[] {
    const tf = this.tf;
    const prog = this.inferProgram;
    return tf.tidy(() => {
      const rt = new Runtime(tf, false, this.consts, () => 0);
      const fv = new Map<number, TfTensor>();
      for (const { value, slot } of prog.feeds) {
        const t = feeds.get(value.name);
        if (!t) throw new MloptError('DATA', `no data for model input "${value.name}"`);
        checkFeedShape(value, t.shape);
        if ('dataId' in t) fv.set(slot, t as TfTensor);
        else {
          const want = tfDType(value.dtype);
          const tt = tensorToTf(tf, t as Tensor, value.name);
          fv.set(slot, tt.dtype === want ? tt : tf.cast(tt, want));
        }
      }
      const vals = prog.runCached(fv, rt, this.cache, this.version);
      return prog.outputs.map((s) => {
        const v = vals[s];
        if (v === undefined) throw new MloptError('RUNTIME', 'IR executor: a graph output was not computed');
        const t = isHost(v) ? rt.t(v) : v;
        return prog.isLongLived(t, this.cache) || [...fv.values()].includes(t) ? tf.clone(t) : t;
      });
    });
  }

  /** Float initializers that are trained. */
  trainableNames(): string[] {
    return [...this.prepared.trainable];
  }

  /** Initializers the executor updates (trainable weights and BN statistics), as float32. */
  getWeights(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, v] of this.vars) out.set(name, { dtype: 'float32', shape: [...v.shape], data: v.dataSync() as Float32Array });
    return out;
  }

  /** Replace the values of some variables (e.g. to restore the best epoch). */
  setWeights(weights: Map<string, Tensor>): void {
    for (const [name, t] of weights) {
      const v = this.vars.get(name);
      if (!v) throw new MloptError('USAGE', `"${name}" is not a weight of this executor`);
      if (elementCount(t.shape) !== v.size) throw new MloptError('SHAPE_MISMATCH', `weight "${name}" has ${v.size} values, got ${elementCount(t.shape)}`);
      this.tf.tidy(() => v.assign(this.tf.tensor(toFloat32(t), v.shape, 'float32')));
    }
    this.version++;
  }

  /** Keep `name` multiplied by `mask` (same element count) after every step; undefined removes it. */
  setMask(name: string, mask: Uint8Array | Float32Array | undefined): void {
    const v = this.vars.get(name);
    if (!v || !this.prepared.trainable.includes(name)) throw new MloptError('USAGE', `"${name}" is not a trainable weight of this executor`);
    this.masks.get(name)?.dispose();
    this.masks.delete(name);
    if (mask) {
      if (mask.length !== v.size) throw new MloptError('SHAPE_MISMATCH', `mask for "${name}" has ${mask.length} values, the weight has ${v.size}`);
      const m = this.tf.tensor(Float32Array.from(mask), v.shape, 'float32');
      this.masks.set(name, m);
      this.tf.tidy(() => v.assign(this.tf.mul(v, m)));
    }
    this.version++;
  }

  private outputSlot(prog: Program, name: string | undefined): { out: number; logits?: number } {
    const g = this.prepared.graph;
    const outName = name ?? g.outputs[0]?.name;
    if (!outName || !g.outputs.some((o) => o.name === outName)) {
      throw new MloptError('USAGE', `"${name}" is not an output of the graph (outputs: ${g.outputs.map((o) => o.name).join(', ')})`);
    }
    const out = prog.slotOf.get(outName)!;
    const sm = g.nodes.find((n) => n.outputs[0] === outName);
    if (sm && sm.op === 'Softmax' && sm.domain === '') {
      const rank = this.types.get(outName)?.shape?.length ?? 2;
      const axis = sm.attrs.axis?.type === 'int' ? sm.attrs.axis.value : graphOpset(g) < 13 ? 1 : -1;
      if (axis === -1 || axis === rank - 1) return { out, logits: prog.slotOf.get(sm.inputs[0]!) };
    }
    return { out };
  }

  private ensureOptimizer(cfg: OptimizerConfig): Optimizer {
    const key = JSON.stringify(cfg);
    if (!this.optimizer || this.optimizer.key !== key) {
      this.optimizer?.dispose();
      this.optimizer = new Optimizer(this.tf, cfg);
    }
    return this.optimizer;
  }

  /** Forget the optimizer's state (momentum, Adam moments, step count). */
  resetOptimizer(): void {
    this.optimizer?.dispose();
    this.optimizer = undefined;
  }

  /** One optimisation step on a batch; returns the batch's loss before the update. */
  async trainStep(batch: TrainBatch, cfg: TrainConfig): Promise<{ loss: number }> {
    const opt = this.ensureOptimizer(cfg.optimizer);
    const { loss } = await this.forwardBackward(batch, cfg, (grads, rt) => {
      opt.apply(
        this.prepared.trainable.map((n) => {
          const w = this.vars.get(n)!;
          const mask = this.masks.get(n);
          return { w, g: grads.get(n) ?? this.tf.zerosLike(w), ...(mask ? { mask } : {}) };
        }),
      );
      for (const [name, t] of rt.updates) this.vars.get(name)?.assign(t);
      return [];
    });
    this.version++;
    if (!Number.isFinite(loss)) throw new MloptError('RUNTIME', `training diverged: the loss is ${loss}`, 'lower the learning rate');
    return { loss };
  }

  /** Training-mode loss of a batch and its gradients by trainable weight, without updating
   *  anything (weights, BN statistics, optimizer). */
  async gradients(batch: TrainBatch, cfg: Omit<TrainConfig, 'optimizer'>): Promise<{ loss: number; grads: Map<string, Tensor> }> {
    const names = this.prepared.trainable;
    const { loss, kept } = await this.forwardBackward(batch, cfg, (grads) => names.map((n) => grads.get(n) ?? this.tf.zerosLike(this.vars.get(n)!)));
    const grads = new Map<string, Tensor>();
    for (const [i, n] of names.entries()) {
      const g = kept[i]!;
      grads.set(n, { dtype: 'float32', shape: [...g.shape], data: (await g.data()) as Float32Array });
      g.dispose();
    }
    return { loss, grads };
  }

  /**
   * Run the training program on a batch under the gradient tape and hand the gradients (by
   * trainable name) to `use`, inside one tf.tidy; the tensors `use` returns are kept for the caller.
   */
  private async forwardBackward(
    batch: TrainBatch,
    cfg: Omit<TrainConfig, 'optimizer'>,
    use: (grads: Map<string, TfTensor>, rt: Runtime) => TfTensor[],
  ): Promise<{ loss: number; kept: TfTensor[] }> {
    await this.activate();
    const tf = this.tf;
    if (!this.trainProgram) {
      registerGradients(tf);
      this.trainProgram = this.compile('train');
    }
    const prog = this.trainProgram;
    const varList = this.prepared.trainable.map((n) => this.vars.get(n)!);
    if (varList.length === 0) throw new MloptError('USAGE', 'the graph has no trainable weights');
    const { out, logits } = this.outputSlot(prog, cfg.output);
    const inputs = asMap(batch.inputs);
    let teacherIsLogits = cfg.teacherFromLogits;
    if (batch.teacher && teacherIsLogits === undefined) {
      const k = batch.teacher.shape[batch.teacher.shape.length - 1] ?? 1;
      teacherIsLogits = !rowsAreDistributions(toFloat32(batch.teacher), k);
    }
    let lossT: TfTensor;
    let kept: TfTensor[] = [];
    try {
      lossT = tf.tidy(() => {
        const rt = new Runtime(tf, true, this.consts, () => Math.floor(this.rand() * 2147483647));
        const fv = this.feedTensors(prog, inputs);
        const targets = batch.targets ? tensorToTf(tf, labelsTensor(batch.targets), 'targets') : undefined;
        const teacher = batch.teacher ? tensorToTf(tf, batch.teacher, 'teacher') : undefined;
        const { value, grads } = tf.variableGrads(() => {
          const vals = prog.runAll(fv, rt);
          const o = vals[out];
          if (!o) throw new MloptError('RUNTIME', 'IR executor: the loss output was not computed');
          const l = logits !== undefined ? vals[logits] : undefined;
          return lossValue(tf, cfg, {
            output: rt.t(o),
            ...(l ? { logits: rt.t(l) } : {}),
            ...(targets ? { targets } : {}),
            ...(teacher ? { teacher, teacherIsLogits: teacherIsLogits === true } : {}),
          }) as import('@tensorflow/tfjs-core').Scalar;
        }, varList);
        const byName = new Map<string, TfTensor>();
        for (const n of this.prepared.trainable) {
          const g = grads[this.vars.get(n)!.name];
          if (g) byName.set(n, g);
        }
        kept = use(byName, rt).map((t) => tf.keep(t));
        for (const [, t] of rt.updates) t.dispose();
        return value;
      });
    } catch (err) {
      throw this.trainingError(err);
    }
    const loss = (await lossT.data())[0]!;
    lossT.dispose();
    return { loss, kept };
  }

  private trainingError(err: unknown): Error {
    if (err instanceof MloptError) return err;
    const msg = errorText(err);
    const m = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(msg);
    if (m) {
      return new MloptError('UNSUPPORTED', `the tfjs ${m[2]} backend has no ${m[1]} kernel, which training this graph needs`, 'train with the cpu backend (backend: "cpu")');
    }
    return new MloptError('RUNTIME', `IR executor training failed: ${msg}`, undefined, { cause: err });
  }

  /** Train for `epochs` over `data` in batches (shuffled with a seed unless shuffle is false). */
  async fit(data: TrainData, cfg: FitConfig): Promise<FitResult> {
    return fitLoop(this, data, cfg);
  }

  /** Accuracy (and crossentropy) of `output` against the labels, in inference mode. */
  async evaluate(data: TrainData, opts: { batchSize?: number; output?: string } = {}): Promise<EvalResult> {
    await this.activate();
    return evaluateLoop(this, data, opts);
  }

  /** A copy of the user's graph with the current weights and BN statistics. */
  toGraph(): Graph {
    const g = copyGraph(this.original);
    for (const [name, v] of this.vars) {
      const orig = g.initializers.get(name);
      if (!orig) continue;
      const f = v.dataSync() as Float32Array;
      const q = this.prepared.qat.get(name);
      if (q) g.initializers.set(name, requantize(f, q));
      else if (isFloatDType(orig.dtype)) g.initializers.set(name, toDType(Float32Array.from(f), orig));
    }
    return g;
  }

  /** What the inference program runs per call (after constant folding and weight caching). */
  stats(): { static: number; dynamic: number; folded: number; layoutConverted: boolean } {
    return { ...this.inferProgram.stats(), layoutConverted: this.prepared.layoutConverted };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    this.inferProgram?.dispose();
    this.trainProgram?.dispose();
    this.optimizer?.dispose();
    for (const v of this.vars.values()) v.dispose();
    for (const m of this.masks.values()) m.dispose();
    this.vars.clear();
    this.masks.clear();
    this.consts.dispose();
  }
}

/** The IR executor behind the common Runner interface (engine 'tfjs-ir'), e.g. for `bench`. */
export async function createIrRunner(graph: Graph, opts: ExecutorOptions = {}): Promise<Runner> {
  const ex = await IrExecutor.create(graph, opts);
  const tf = require('@tensorflow/tfjs-core') as Tf;
  const held: TfTensor[][] = [];
  return {
    engine: 'tfjs-ir',
    version: tf.version_core,
    backend: ex.backend,
    device: 'cpu',
    inputs: ex.inputs,
    outputs: ex.outputs,
    async run(feeds: Feeds): Promise<Map<string, Tensor>> {
      return new Map(Object.entries(await ex.run(feeds)));
    },
    prepare(feeds: Feeds): unknown {
      const m = new Map<string, TfTensor>();
      for (const v of ex.inputs) {
        const t = feeds.get(v.name);
        if (!t) throw new MloptError('DATA', `no data for model input "${v.name}"`);
        const tt = tensorToTf(tf, t, v.name);
        m.set(v.name, tt.dtype === tfDType(v.dtype) ? tt : tf.cast(tt, tfDType(v.dtype)));
      }
      held.push([...m.values()]);
      return m;
    },
    async runPrepared(prepared: unknown): Promise<unknown> {
      const outs = ex.runTensors(prepared as Map<string, TfTensor>);
      const data = await Promise.all(outs.map((t) => t.data()));
      for (const t of outs) t.dispose();
      return data;
    },
    async dispose(): Promise<void> {
      for (const h of held) for (const t of h) t.dispose();
      ex.dispose();
    },
  };
}

export type { OptimizerConfig } from './executor/optimizers.js';
export type { LossConfig } from './executor/losses.js';
