/**
 * A compiled program: the executor's graph (fused for its mode) as a flat list of steps over
 * numbered value slots. Each node's kernel is built once (attributes parsed, weights' derived
 * forms declared); steps whose inputs are all constants are evaluated at compile time; steps
 * that depend only on weights ("static") are, in inference, evaluated once per weight version
 * and cached, so that a run executes only the feed-dependent steps.
 */
import type { Graph, Value } from '../../ir/graph.js';
import { feedInputs } from '../../ir/graph.js';
import type { ValueType } from '../../ir/ops/index.js';
import { MloptError, errorText } from '../../util/errors.js';
import { fuseNodes } from './fuse.js';
import { hostFromTensor, isHostCandidate, tfDType } from './host.js';
import { kernelFor, kernelKey } from './ops/index.js';
import { HostTensor, isHost, type CompileCtx, type Kernel, type RunCtx, type Tf, type TfTensor, type TfVariable, type Val } from './types.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32, toNumbers } from '../../ir/tensor.js';

interface Step {
  name: string;
  op: string;
  ins: number[];
  outs: number[];
  exec(vals: Array<Val | undefined>, rt: RunCtx): Array<Val | undefined>;
}

/** Ops never evaluated at compile time (random, or different in training). */
const NO_FOLD = new Set(['Dropout', 'BatchNormalization', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial']);

/** Constants shared by the programs of one executor: host values and kept device tensors. */
export class ConstStore {
  readonly values = new Map<string, Val>();
  /** host constants, whose device copies are cached */
  readonly hosts = new Set<HostTensor>();
  readonly devCopies = new Map<HostTensor, TfTensor>();
  /** ids of tensors that live as long as the executor (never disposed by a run) */
  readonly longLived = new Set<number>();
  constructor(private readonly tf: Tf) {}

  get(name: string, t: Tensor): Val {
    let v = this.values.get(name);
    if (v) return v;
    if (isHostCandidate(t)) {
      v = hostFromTensor(t);
      this.hosts.add(v);
    } else {
      v = this.tf.keep(tensorToTf(this.tf, t, name));
      this.longLived.add(v.id);
    }
    this.values.set(name, v);
    return v;
  }

  /** device copy of a host constant (created once) */
  device(h: HostTensor): TfTensor | undefined {
    if (!this.hosts.has(h)) return undefined;
    let t = this.devCopies.get(h);
    if (!t) {
      t = this.tf.keep(this.tf.tensor(h.data, h.shape, tfDType(h.dtype)));
      this.devCopies.set(h, t);
      this.longLived.add(t.id);
    }
    return t;
  }

  addHost(h: HostTensor): void {
    this.hosts.add(h);
  }

  dispose(): void {
    for (const v of this.values.values()) if (!isHost(v)) v.dispose();
    for (const t of this.devCopies.values()) t.dispose();
    this.values.clear();
    this.devCopies.clear();
    this.hosts.clear();
    this.longLived.clear();
  }
}

/** An IR tensor as a tfjs tensor (float types → float32, integers → int32, bool). */
export function tensorToTf(tf: Tf, t: Tensor, what: string): TfTensor {
  if (t.dtype === 'string' || t.dtype.startsWith('complex')) throw new MloptError('UNSUPPORTED', `"${what}" is ${t.dtype}, which the IR executor cannot hold`);
  const dt = tfDType(t.dtype);
  if (dt === 'float32') return tf.tensor(toFloat32(t), t.shape, 'float32');
  if (dt === 'bool') return tf.tensor(Uint8Array.from(toNumbers(t), (v) => (v ? 1 : 0)), t.shape, 'bool');
  if (t.data instanceof Int32Array) return tf.tensor(t.data, t.shape, 'int32');
  return tf.tensor(Int32Array.from(toNumbers(t)), t.shape, 'int32');
}

/** The run-time services a kernel gets (one per run / training step). */
export class Runtime implements RunCtx {
  readonly updates: Array<[string, TfTensor]> = [];
  constructor(
    readonly tf: Tf,
    readonly training: boolean,
    private readonly consts: ConstStore,
    private readonly seeds: () => number,
  ) {}
  t(v: Val): TfTensor {
    if (!isHost(v)) return v;
    return this.consts.device(v) ?? this.tf.tensor(v.data, v.shape, tfDType(v.dtype));
  }
  h(v: Val): HostTensor {
    if (isHost(v)) return v;
    const data = Array.from(v.dataSync() as ArrayLike<number>);
    return new HostTensor(v.dtype === 'float32' ? 'float32' : v.dtype === 'bool' ? 'bool' : 'int64', [...v.shape], data);
  }
  ints(v: Val): number[] {
    return this.h(v).data;
  }
  seed(): number {
    return this.seeds();
  }
  setState(initializer: string, value: TfTensor): void {
    // kept: the gradient tape disposes what its function made once the gradients exist
    if (this.training) this.updates.push([initializer, this.tf.keep(value)]);
  }
}

/** Cached values of the static (weight-only) steps of an inference program. */
export class StaticCache {
  version = -1;
  readonly vals = new Map<number, Val>();
  private readonly owned: TfTensor[] = [];
  clear(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
    this.vals.clear();
    this.version = -1;
  }
  own(t: TfTensor): void {
    this.owned.push(t);
  }
}

export interface CompileEnv {
  tf: Tf;
  graph: Graph;
  types: Map<string, ValueType>;
  opset: number;
  mode: 'infer' | 'train';
  variables: Map<string, TfVariable>;
  consts: ConstStore;
  seeds: () => number;
}

export class Program {
  readonly slotOf = new Map<string, number>();
  readonly feeds: Array<{ value: Value; slot: number }> = [];
  readonly outputs: number[] = [];
  private readonly initial: Array<Val | undefined> = [];
  private readonly varSlots: Array<[number, TfVariable]> = [];
  private readonly staticSteps: Step[] = [];
  private readonly dynamicSteps: Step[] = [];
  /** static slots that dynamic steps or outputs read (what the cache keeps) */
  private readonly exported = new Set<number>();
  /** tensors made by compile-time folding (owned by the program) */
  private readonly folded: TfTensor[] = [];

  constructor(private readonly env: CompileEnv) {
    this.compile();
  }

  private slot(name: string): number {
    let s = this.slotOf.get(name);
    if (s === undefined) {
      s = this.initial.length;
      this.initial.push(undefined);
      this.slotOf.set(name, s);
    }
    return s;
  }

  private compile(): void {
    const { tf, graph: g, types, mode, variables, consts } = this.env;
    const isConst: boolean[] = [];
    const isStatic: boolean[] = [];
    const read = new Set<string>(g.outputs.map((o) => o.name));
    for (const n of g.nodes) for (const x of n.inputs) read.add(x);
    for (const [name, t] of g.initializers) {
      if (!read.has(name)) continue;
      const s = this.slot(name);
      const v = variables.get(name);
      if (v) {
        this.varSlots.push([s, v]);
        isStatic[s] = true;
      } else {
        this.initial[s] = consts.get(name, t);
        isConst[s] = true;
        isStatic[s] = true;
      }
    }
    for (const v of feedInputs(g)) this.feeds.push({ value: v, slot: this.slot(v.name) });

    const foldRt = new Runtime(tf, false, consts, this.env.seeds);
    const nodes = fuseNodes({ graph: g, types, mode });
    for (const node of nodes) {
      const compiler = kernelFor(node);
      if (!compiler) throw new MloptError('UNSUPPORTED', `op ${kernelKey(node)} (node "${node.name}") cannot run on the IR executor`);
      const inSlots = node.inputs.map((x) => (x ? this.slotOf.get(x) ?? -2 : -1));
      const missing = inSlots.indexOf(-2);
      if (missing >= 0) throw new MloptError('INVALID_GRAPH', `node "${node.name}" reads "${node.inputs[missing]}", which nothing produces before it`);
      const ctx: CompileCtx = {
        node,
        opset: this.env.opset,
        mode,
        inputs: node.inputs.map((x, i) => {
          if (!x) return undefined;
          const ty = types.get(x);
          const s = inSlots[i]!;
          const init = g.initializers.get(x);
          return { name: x, dtype: ty?.dtype ?? init?.dtype, shape: ty?.shape ?? init?.shape, ...(isConst[s] && init ? { constant: init } : {}), static: !!isStatic[s] };
        }),
        outputs: node.outputs.map((o) => (o ? types.get(o) : undefined)),
        fail: (why) => {
          throw new MloptError('UNSUPPORTED', `op ${kernelKey(node)} (node "${node.name}") cannot run on the IR executor: ${why}`);
        },
        constNumbers: (i) => {
          const s = inSlots[i];
          if (s === undefined || s < 0 || !isConst[s]) return undefined;
          const v = this.initial[s];
          return v && isHost(v) ? v.data : undefined;
        },
      };
      let kernel: Kernel;
      try {
        kernel = compiler(ctx);
      } catch (err) {
        if (err instanceof MloptError) throw err;
        throw new MloptError('UNSUPPORTED', `op ${kernelKey(node)} (node "${node.name}") cannot run on the IR executor: ${errorText(err)}`);
      }
      const foldable = !NO_FOLD.has(node.op);
      // derived values (weights in kernel layout...): one step each
      const derivedSlots: number[] = [];
      for (const [j, d] of (kernel.derive ?? []).entries()) {
        const from = d.from;
        const ins = from.map((i) => inSlots[i] ?? -1);
        const out = this.slot(`${node.name}#derived${j}`);
        derivedSlots.push(out);
        const step: Step = {
          name: node.name,
          op: `${node.op} (derived)`,
          ins,
          outs: [out],
          exec: (vals, rt) => {
            const sparse: Array<Val | undefined> = [];
            from.forEach((i, k) => (sparse[i] = vals[k]));
            return [d.fn(sparse, rt)];
          },
        };
        this.place(step, isConst, isStatic, foldRt, true);
      }
      const nIn = inSlots.length;
      const step: Step = {
        name: node.name,
        op: node.op,
        ins: [...inSlots, ...derivedSlots],
        outs: node.outputs.map((o) => (o ? this.slot(o) : -1)),
        exec: (vals, rt) => {
          const ins = vals.slice(0, nIn);
          if (kernel.host && ins.some((v) => v !== undefined) && ins.every((v) => v === undefined || isHost(v))) {
            const h = kernel.host(ins as Array<HostTensor | undefined>);
            if (h) return h;
          }
          return kernel.run(ins, rt, vals.slice(nIn) as Val[]);
        },
      };
      this.place(step, isConst, isStatic, foldRt, foldable);
    }
    for (const o of g.outputs) {
      const s = this.slotOf.get(o.name);
      if (s === undefined) throw new MloptError('INVALID_GRAPH', `graph output "${o.name}" is produced by no node`);
      this.outputs.push(s);
    }
    for (const s of this.outputs) if (isStatic[s]) this.exported.add(s);
    for (const st of this.dynamicSteps) for (const s of st.ins) if (s >= 0 && isStatic[s]) this.exported.add(s);
  }

  /** File a step as constant (evaluated now), static or dynamic. */
  private place(step: Step, isConst: boolean[], isStatic: boolean[], foldRt: Runtime, foldable: boolean): void {
    const used = step.ins.filter((s) => s >= 0);
    const allConst = used.every((s) => isConst[s]);
    const allStatic = used.every((s) => isStatic[s]);
    if (allConst && foldable) {
      const tf = this.env.tf;
      let outs: Array<Val | undefined> = [];
      tf.tidy(() => {
        const res = this.exec(step, this.initial, foldRt);
        outs = res.map((v) => (v && !isHost(v) ? tf.keep(v) : v));
      });
      step.outs.forEach((s, i) => {
        if (s < 0) return;
        const v = outs[i];
        this.initial[s] = v;
        isConst[s] = true;
        isStatic[s] = true;
        if (v && isHost(v)) this.env.consts.addHost(v);
        else if (v && !this.env.consts.longLived.has(v.id)) {
          this.folded.push(v);
          this.env.consts.longLived.add(v.id);
        }
      });
      return;
    }
    for (const s of step.outs) if (s >= 0) isStatic[s] = allStatic;
    (allStatic ? this.staticSteps : this.dynamicSteps).push(step);
  }

  private exec(step: Step, vals: Array<Val | undefined>, rt: RunCtx): Array<Val | undefined> {
    const ins = step.ins.map((s) => (s >= 0 ? vals[s] : undefined));
    let res: Array<Val | undefined>;
    try {
      res = step.exec(ins, rt);
    } catch (err) {
      if (err instanceof MloptError) throw err;
      throw new MloptError('RUNTIME', `IR executor: node "${step.name}" (${step.op}) failed: ${errorText(err)}`, undefined, { cause: err });
    }
    step.outs.forEach((s, i) => {
      if (s >= 0) vals[s] = res[i];
    });
    return res;
  }

  private base(feeds: Map<number, TfTensor>): Array<Val | undefined> {
    const vals = this.initial.slice();
    for (const [s, v] of this.varSlots) vals[s] = v;
    for (const [s, t] of feeds) vals[s] = t;
    return vals;
  }

  /**
   * Run every step (training: inside the gradient tape). Returns all slot values; call inside
   * tf.tidy.
   */
  runAll(feeds: Map<number, TfTensor>, rt: RunCtx): Array<Val | undefined> {
    const vals = this.base(feeds);
    for (const st of this.staticSteps) this.exec(st, vals, rt);
    for (const st of this.dynamicSteps) this.exec(st, vals, rt);
    return vals;
  }

  /** Inference with the static steps cached per weight version. Call inside tf.tidy. */
  runCached(feeds: Map<number, TfTensor>, rt: RunCtx, cache: StaticCache, version: number): Array<Val | undefined> {
    const tf = this.env.tf;
    if (cache.version !== version) {
      cache.clear();
      tf.tidy(() => {
        const vals = this.base(new Map());
        for (const st of this.staticSteps) this.exec(st, vals, rt);
        for (const s of this.exported) {
          const v = vals[s];
          if (v && !isHost(v) && !this.env.consts.longLived.has(v.id) && !this.isVariable(v)) {
            tf.keep(v);
            cache.own(v);
          }
          if (v) cache.vals.set(s, v);
        }
      });
      cache.version = version;
    }
    const vals = this.base(feeds);
    for (const [s, v] of cache.vals) vals[s] = v;
    for (const st of this.dynamicSteps) this.exec(st, vals, rt);
    return vals;
  }

  private isVariable(v: TfTensor): boolean {
    return this.varSlots.some(([, x]) => x === v);
  }

  /** Tensors that outlive a run (variables, constants, cached statics): outputs must be copies of them. */
  isLongLived(v: TfTensor, cache?: StaticCache): boolean {
    if (this.env.consts.longLived.has(v.id) || this.isVariable(v)) return true;
    if (cache) for (const c of cache.vals.values()) if (c === v) return true;
    return false;
  }

  /** Steps run per call (after folding and caching), for diagnostics. */
  stats(): { static: number; dynamic: number; folded: number } {
    return { static: this.staticSteps.length, dynamic: this.dynamicSteps.length, folded: this.folded.length };
  }

  dispose(): void {
    for (const t of this.folded) {
      this.env.consts.longLived.delete(t.id);
      t.dispose();
    }
    this.folded.length = 0;
  }
}
