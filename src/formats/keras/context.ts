/**
 * The state of one Keras → IR build (`Builder`) and what a layer handler sees of one call of its
 * layer (`LayerCall`). Handlers live in layers/*.ts, one small function per Keras class.
 */
import type { Attr, Graph, Layout, Node } from '../../ir/graph.js';
import type { DType } from '../../ir/dtype.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import { NameAllocator } from '../../ir/edit.js';
import { inferGraphTypes } from '../../ir/ops/index.js';
import { type ErrorCode, MloptError } from '../../util/errors.js';
import { activationName, emitActivation } from './activations.js';
import type { KerasJson, KerasScope, KerasWeightInfo, KerasWeightSource } from './types.js';

/** How a Keras weight is stored in the IR: `to` converts Keras layout → IR, `back` the inverse. */
export interface WeightMapping {
  to(t: Tensor): Tensor;
  back(t: Tensor): Tensor;
}

export const SAME_LAYOUT: WeightMapping = { to: (t) => t, back: (t) => t };

/** The weights of one layer (shared by all its calls): Keras tensors and their IR initializers. */
export interface LayerWeights {
  layer: string;
  tensors: Tensor[];
  names: string[];
  /** IR initializer of weight i, once a call has placed it */
  inits: Array<string | undefined>;
  /** how to recover weight i from the IR, once placed */
  infos: Array<KerasWeightInfo | undefined>;
}

export class Builder {
  readonly names: NameAllocator;
  private typesAt = -1;
  private types = new Map<string, { dtype?: DType; shape?: Dim[] }>();

  constructor(
    readonly g: Graph,
    readonly source: string,
    readonly kerasMajor: number,
    readonly weightSource: KerasWeightSource,
  ) {
    this.names = new NameAllocator(g);
  }

  fail(code: ErrorCode, message: string, hint?: string): never {
    throw new MloptError(code, `${this.source}: ${message}`, hint);
  }

  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, layout?: Layout): void {
    const n: Node = { name: this.names.derive(`${outputs[0] ?? op}/${op}`), op, domain: '', inputs, outputs, attrs };
    if (layout) n.layout = layout;
    this.g.nodes.push(n);
  }

  /** A fresh value name based on `hint`. */
  value(hint: string): string {
    return this.names.derive(hint);
  }

  /** A constant initializer that is not a Keras weight (shapes, axes, scalars, ones...). */
  constant(hint: string, t: Tensor): string {
    const n = this.names.derive(hint);
    this.g.initializers.set(n, t);
    return n;
  }

  /** Small constants (axes, shapes, scalars) are shared between nodes. */
  private readonly shared = new Map<string, string>();

  private sharedConstant(key: string, hint: string, make: () => Tensor): string {
    let n = this.shared.get(key);
    if (!n) {
      n = this.constant(hint, make());
      this.shared.set(key, n);
    }
    return n;
  }

  scalar(hint: string, v: number): string {
    return this.sharedConstant(`f32:${v}`, hint, () => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) }));
  }

  floats(hint: string, v: number[], shape = [v.length]): string {
    return this.constant(hint, { dtype: 'float32', shape, data: Float32Array.from(v) });
  }

  i64(hint: string, v: Array<number | bigint>): string {
    return this.sharedConstant(`i64:${v.join(',')}`, hint, () => ({ dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v.map((x) => BigInt(x))) }));
  }

  /** The inferred type of a value (runs type inference on the graph built so far, when it grew). */
  typeOf(value: string): { dtype?: DType; shape?: Dim[] } | undefined {
    if (this.typesAt !== this.g.nodes.length) {
      this.types = inferGraphTypes(this.g).types;
      this.typesAt = this.g.nodes.length;
    }
    return this.types.get(value);
  }
}

/** One call of one layer, as its handler sees it. */
export class LayerCall {
  readonly where: string;
  constructor(
    readonly b: Builder,
    readonly className: string,
    readonly name: string,
    readonly config: KerasJson,
    /** IR values the layer is called on */
    readonly inputs: string[],
    private readonly w: LayerWeights,
    /** prefix for IR names of a nested model's layers ('' at top level) */
    readonly prefix: string,
    readonly path: readonly KerasScope[],
  ) {
    this.where = `${className} layer "${name}"`;
  }

  get x(): string {
    const x = this.inputs[0];
    if (x === undefined) this.fail(`is called on no input`);
    return x;
  }

  /** Keras weights of the layer, in Keras order and layout. */
  get weights(): Tensor[] {
    return this.w.tensors;
  }

  fail(message: string, hint?: string, code: ErrorCode = 'UNSUPPORTED'): never {
    return this.b.fail(code, `${this.where}: ${message}`, hint);
  }

  /** A config value with a default. */
  get<T>(key: string, dflt: T): T {
    const v = this.config[key];
    return v === undefined || v === null ? dflt : (v as T);
  }

  /** A fresh IR value name for this layer's output. */
  out(suffix = ''): string {
    return this.b.value(`${this.prefix}${this.name}${suffix}`);
  }

  /** Keras weight `i` (named `kerasName`, e.g. 'kernel'), placed in the IR once for all calls. */
  weight(i: number, kerasName: string, map: WeightMapping = SAME_LAYOUT): string {
    const t = this.w.tensors[i];
    if (!t) this.fail(`weight ${i} (${kerasName}) is missing from the weights file (found ${this.w.tensors.length})`, undefined, 'CORRUPT_MODEL');
    const have = this.w.inits[i];
    if (have) return have;
    const init = this.b.names.derive(`${this.prefix}${this.name}/${kerasName}`);
    this.b.g.initializers.set(init, map.to(t));
    this.w.inits[i] = init;
    const name = this.w.names[i] ?? `${this.name}/${kerasName}`;
    if (!this.w.names[i]) this.w.names[i] = name;
    const source = this.b.source;
    this.w.infos[i] = {
      name, layer: this.name,
      fromIr(get) {
        const v = get(init);
        if (!v) throw new MloptError('INVALID_GRAPH', `${source}: Keras weight ${name} cannot be recovered: initializer "${init}" is no longer in the graph`);
        return map.back(v);
      },
    };
    return init;
  }

  /** Name Keras weight `i` that the IR does not use (e.g. Normalization's count): written back as read. */
  keep(i: number, kerasName: string): void {
    const t = this.w.tensors[i];
    if (!t || this.w.infos[i]) return;
    this.w.infos[i] = { name: this.w.names[i] ?? `${this.name}/${kerasName}`, layer: this.name, fromIr: () => t };
  }

  /** Emit the layer's `activation` (config) after `emit` wrote the pre-activation value. */
  withActivation(emit: (y: string) => void, suffix = ''): string {
    const act = activationName(this.config.activation);
    if (act === 'linear') {
      const y = this.out(suffix);
      emit(y);
      return y;
    }
    const pre = this.out(`${suffix}/preact`);
    emit(pre);
    const y = this.out(suffix);
    emitActivation(this.b, act, pre, y, this.where);
    return y;
  }

  /** Inferred shape of an IR value. */
  shape(value: string): Dim[] | undefined {
    return this.b.typeOf(value)?.shape;
  }

  /** Rank of the first input (fails when unknown). */
  rank(value = this.x): number {
    const s = this.shape(value);
    if (!s) this.fail('the rank of its input is unknown');
    return s.length;
  }
}

/** Keras `pool_size` / `strides` / `kernel_size`: an int or a list, as `n` numbers. */
export function tuple(v: unknown, n: number, dflt: number): number[] {
  if (Array.isArray(v)) return v.length === n ? (v as number[]) : Array<number>(n).fill((v[0] as number) ?? dflt);
  return Array<number>(n).fill(typeof v === 'number' ? v : dflt);
}

export const ints = (value: number[]): Attr => ({ type: 'ints', value });
export const int = (value: number): Attr => ({ type: 'int', value });
export const float = (value: number): Attr => ({ type: 'float', value });
export const str = (value: string): Attr => ({ type: 'string', value });

/** The mapping of one Keras layer class. */
export interface LayerHandler {
  /** true when the layer has weights (used to pair a weights-only file's layers by order) */
  weighted?: boolean | ((config: KerasJson) => boolean);
  /** emit the IR of one call; returns the layer's output value(s) */
  apply(c: LayerCall): string | string[];
}
