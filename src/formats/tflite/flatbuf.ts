/**
 * (Over ~400 lines on purpose: the reader and the writer walk the same compiled
 * schema and share its helpers, like ../onnx/proto/wire.ts.)
 *
 * A small schema-driven flatbuffers codec on the `flatbuffers` runtime
 * (ByteBuffer to read, Builder to write), driven by the declarative schema of
 * ./schema.ts.
 *
 * Decoding: every read is bounds-checked first (a FbDecodeError names what and
 * where); flatbuffers offsets only point forward, so walking cannot loop.
 * Scalars are always materialized (absent = schema default) except `sparse`
 * ones; vectors and strings follow their `presence`; [ubyte] `bytes` fields are
 * zero-copy subarray views of the input. Unions decode to `{ type: MemberName,
 * ...fields }`. Enum-typed fields decode to member names (numbers when out of
 * range). Two kinds of data the schema does not describe are kept:
 * - a union member whose code is past the known members (a newer schema):
 *   `{ type: 'Union#code', $raw: FbRawTable }` with the table's bytes and
 *   everything after it up to the next object the schema knows (in builder
 *   output a table's children sit right after it); re-emitted verbatim at the
 *   same alignment phase (mod 16) with a copy of its vtable, so its internal
 *   offsets stay valid;
 * - vtable slots past a known table's fields (fields added by a newer schema):
 *   `$extra: FbRawSlot[]`, each slot's inline bytes, re-emitted in the same slot.
 * Either is flagged `unsafe` (with the reason) when it looks like it holds an
 * offset to data outside what was kept; encoding such a value throws.
 *
 * Encoding: children first, then the table with its fields added largest
 * first (as flatc-generated code does); scalars equal to their default are
 * omitted; vtables are deduplicated by the Builder.
 */
import { Builder, ByteBuffer } from 'flatbuffers';
import type { FbField, FbSchemaSpec, FbScalar } from './schema.js';

/** Thrown for bytes that are not a well-formed flatbuffer of the schema. */
export class FbDecodeError extends Error {
  override name = 'FbDecodeError';
}
/** Thrown for an object that cannot be written as the schema says. */
export class FbEncodeError extends Error {
  override name = 'FbEncodeError';
  constructor(message: string, readonly unsupported = false) { super(message); }
}

/** A union member table of a type the schema does not know, kept as bytes. */
export interface FbRawTable {
  /** the union's type code */
  code: number;
  /** the table's vtable, verbatim */
  vtable: Uint8Array;
  /** the table (from its soffset) and what follows it up to the next known object */
  bytes: Uint8Array;
  /** the original absolute address of bytes[0], mod 16 */
  phase: number;
  /** set when a field of the table may point outside `bytes`: re-encoding would break it */
  unsafe?: string;
}

/** A vtable slot past the known fields of a table, kept as its inline bytes. */
export interface FbRawSlot {
  slot: number;
  bytes: Uint8Array;
  unsafe?: string;
}

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------- compiled schema

const S_BOOL = 0, S_I8 = 1, S_U8 = 2, S_I16 = 3, S_U16 = 4, S_I32 = 5, S_U32 = 6, S_I64 = 7, S_U64 = 8, S_F32 = 9, S_F64 = 10;
const SCALAR_CODE: Record<FbScalar, number> = {
  bool: S_BOOL, int8: S_I8, uint8: S_U8, int16: S_I16, uint16: S_U16, int32: S_I32, uint32: S_U32,
  int64: S_I64, uint64: S_U64, float32: S_F32, float64: S_F64,
};
const WIDTH = [1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8];
const RANGE: [number, number][] = [[0, 1], [-128, 127], [0, 255], [-32768, 32767], [0, 65535], [-2147483648, 2147483647], [0, 4294967295]];
const K_SCALAR = 0, K_STRING = 1, K_VECTOR = 2, K_BYTES = 3, K_TABLE = 4, K_TABLES = 5, K_UNION = 6;
const KIND_CODE = { scalar: K_SCALAR, string: K_STRING, vector: K_VECTOR, bytes: K_BYTES, table: K_TABLE, tables: K_TABLES, union: K_UNION } as const;
const P_OPTIONAL = 0, P_ALWAYS = 1, P_NONEMPTY = 2;

interface CField {
  idx: number; id: number; name: string; prop: string; k: number; s: number; w: number;
  def: number | boolean | bigint;
  /** the decoded value of an absent field: `def`, as an enum name where there is one */
  defOut: unknown;
  names: readonly string[] | null; codes: Map<string, number> | null;
  table: CTable | null; union: CUnion | null; align: number; presence: number; sparse: boolean;
  /** inline size in the table: scalar width, 4 for offsets (the union's value slot) */
  inline: number;
}
/** One inline value to add: a field, or the `_type` byte of a union field. */
interface CSlot { f: CField; unionType: boolean; size: number }
export interface CTable { name: string; fields: CField[]; slots: number; order: CSlot[] }
export interface CUnion { name: string; members: (CTable | null)[]; codes: Map<string, number> }

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export class FbSchema {
  readonly tables = new Map<string, CTable>();
  readonly unions = new Map<string, CUnion>();
  readonly root: CTable;
  constructor(readonly spec: FbSchemaSpec) {
    for (const name of Object.keys(spec.tables)) this.tables.set(name, { name, fields: [], slots: 0, order: [] });
    for (const [name, members] of Object.entries(spec.unions)) {
      this.unions.set(name, {
        name, members: [null, ...members.map((m) => this.table(m))],
        codes: new Map(members.map((m, i) => [m, i + 1])),
      });
    }
    for (const [name, specs] of Object.entries(spec.tables)) {
      const t = this.table(name);
      let id = 0;
      for (const f of specs) {
        const here = id;
        id += f.kind === 'union' ? 2 : 1;
        if (f.kind === 'gone') continue;
        const s = f.scalar ? SCALAR_CODE[f.scalar] : -1;
        const names = f.enum ? spec.enums[f.enum] ?? null : null;
        if (f.enum && !names) throw new Error(`${name}.${f.name}: unknown enum ${f.enum}`);
        const k = KIND_CODE[f.kind];
        t.fields.push({
          idx: t.fields.length, id: here, name: f.name, prop: f.prop ?? camel(f.name), k, s, w: s >= 0 ? WIDTH[s]! : 4,
          def: f.def ?? 0, defOut: names ? names[Number(f.def ?? 0)] ?? f.def : f.def ?? 0, names, codes: names ? new Map(names.map((n, i) => [n, i])) : null,
          table: f.table ? this.table(f.table) : null, union: f.union ? this.union(f.union) : null,
          align: f.align ?? 1, presence: f.presence === 'always' ? P_ALWAYS : f.presence === 'nonEmpty' ? P_NONEMPTY : P_OPTIONAL,
          sparse: !!f.sparse, inline: k === K_SCALAR ? WIDTH[s]! : 4,
        });
      }
      t.slots = id;
      // flatc order: largest inline size first, later fields first within a size.
      const slots: CSlot[] = t.fields.map((f) => ({ f, unionType: false, size: f.inline }));
      for (const f of t.fields) if (f.k === K_UNION) slots.push({ f, unionType: true, size: 1 });
      t.order = slots.sort((a, b) => b.size - a.size || (b.f.id + (b.unionType ? 0 : 1)) - (a.f.id + (a.unionType ? 0 : 1)));
    }
    for (const u of this.unions.values()) {
      for (const m of u.members) {
        if (m?.fields.some((f) => f.prop === 'type')) throw new Error(`${m.name}: a union member needs another property name than 'type' for its field`);
      }
    }
    this.root = this.table(spec.root);
  }
  table(name: string): CTable {
    const t = this.tables.get(name);
    if (!t) throw new Error(`unknown flatbuffers table '${name}'`);
    return t;
  }
  union(name: string): CUnion {
    const u = this.unions.get(name);
    if (!u) throw new Error(`unknown flatbuffers union '${name}'`);
    return u;
  }
}

// ---------------------------------------------------------------- decoding

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const nativeSlice = (Buffer.prototype as unknown as { utf8Slice?: (this: Uint8Array, a: number, b: number) => string }).utf8Slice;
const readUtf8: (buf: Uint8Array, a: number, b: number) => string = nativeSlice
  ? (buf, a, b) => nativeSlice.call(buf, a, b) : (buf, a, b) => utf8.decode(buf.subarray(a, b));

interface PendingRaw { pos: number; vt: number; tsize: number; raw: FbRawTable }

export class FbReader {
  readonly bb: ByteBuffer;
  readonly len: number;
  /** unknown union members met so far, completed by finishRaw() */
  readonly pending: PendingRaw[] = [];
  /** when set, the start of every object read (tables, their vtables, vectors, strings) */
  private starts: number[] | null = null;
  /** the end of the furthest object read so far */
  end = 0;
  constructor(readonly schema: FbSchema, readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.len = bytes.length;
  }

  fail(what: string, at: number): never {
    throw new FbDecodeError(`${what} at byte ${at}`);
  }
  need(pos: number, n: number, what: string): void {
    if (pos < 0 || pos + n > this.len) this.fail(`${what} runs past the end of the buffer (${this.len} bytes)`, pos);
  }
  /** Follows the uoffset stored at `at`. */
  deref(at: number, what: string): number {
    this.need(at, 4, what);
    const p = at + this.bb.readUint32(at);
    if (p + 4 > this.len) this.fail(`${what}: offset points past the end of the buffer (${this.len} bytes)`, at);
    return p;
  }

  root(): Obj {
    return this.table(this.schema.root, this.deref(0, 'root offset'), null);
  }

  table(t: CTable, pos: number, typeName: string | null): Obj {
    const bb = this.bb;
    this.need(pos, 4, `${t.name} table`);
    const vt = pos - bb.readInt32(pos);
    if (vt < 0 || vt + 4 > this.len || (vt & 1) !== 0) this.fail(`${t.name} table: vtable offset out of range`, pos);
    const vsize = bb.readUint16(vt), tsize = bb.readUint16(vt + 2);
    if (vsize < 4 || (vsize & 1) !== 0 || vt + vsize > this.len) this.fail(`${t.name} table: malformed vtable`, vt);
    if (tsize < 4 || pos + tsize > this.len) this.fail(`${t.name} table: inline data runs past the end of the buffer`, pos);
    if (this.starts) this.starts.push(pos, vt);
    this.end = Math.max(this.end, pos + tsize, vt + vsize);
    const nslots = (vsize - 4) >> 1;
    const o: Obj = typeName === null ? {} : { type: typeName };
    for (const f of t.fields) {
      const fo = f.id < nslots ? bb.readUint16(vt + 4 + 2 * f.id) : 0;
      if (fo !== 0 && fo + f.inline > tsize) this.fail(`${t.name}.${f.name}: field lies outside its table`, pos);
      const p = pos + fo;
      switch (f.k) {
        case K_SCALAR: {
          if (fo === 0) { if (!f.sparse) o[f.prop] = f.defOut; break; }
          const v = this.scalar(f.s, p);
          if (f.sparse && v === f.def) break;
          o[f.prop] = f.names ? (f.names[v as number] ?? v) : v;
          break;
        }
        case K_STRING:
          if (fo !== 0) o[f.prop] = this.string(this.deref(p, `${t.name}.${f.name}`), `${t.name}.${f.name}`);
          else if (f.presence !== P_OPTIONAL) o[f.prop] = '';
          break;
        case K_VECTOR:
          if (fo !== 0) o[f.prop] = this.vector(f, this.deref(p, `${t.name}.${f.name}`), t);
          else if (f.presence !== P_OPTIONAL) o[f.prop] = [];
          break;
        case K_BYTES:
          if (fo !== 0) {
            const q = this.deref(p, `${t.name}.${f.name}`);
            const n = bb.readUint32(q);
            this.need(q + 4, n, `${t.name}.${f.name}`);
            if (this.starts) this.starts.push(q);
            if (q + 4 + n > this.end) this.end = q + 4 + n;
            o[f.prop] = this.bytes.subarray(q + 4, q + 4 + n);
          } else if (f.presence !== P_OPTIONAL) o[f.prop] = new Uint8Array(0);
          break;
        case K_TABLE:
          if (fo !== 0) o[f.prop] = this.table(f.table!, this.deref(p, `${t.name}.${f.name}`), null);
          break;
        case K_TABLES:
          if (fo !== 0) {
            const q = this.deref(p, `${t.name}.${f.name}`);
            const n = bb.readUint32(q);
            this.need(q + 4, n * 4, `${t.name}.${f.name}`);
            if (this.starts) this.starts.push(q);
            if (q + 4 + 4 * n > this.end) this.end = q + 4 + 4 * n;
            const arr: Obj[] = new Array(n);
            for (let i = 0; i < n; i++) arr[i] = this.table(f.table!, this.deref(q + 4 + 4 * i, `${t.name}.${f.name}[${i}]`), null);
            o[f.prop] = arr;
          } else if (f.presence !== P_OPTIONAL) o[f.prop] = [];
          break;
        case K_UNION: {
          const code = fo !== 0 ? bb.readUint8(p) : 0;
          if (code === 0) break;
          const vo = f.id + 1 < nslots ? bb.readUint16(vt + 4 + 2 * (f.id + 1)) : 0;
          if (vo === 0 || vo + 4 > tsize) this.fail(`${t.name}.${f.name}: union type ${code} set but its value is missing`, pos);
          const q = this.deref(pos + vo, `${t.name}.${f.name}`);
          const member = f.union!.members[code];
          if (member) { o[f.prop] = this.table(member, q, member.name); break; }
          const raw = this.unknownTable(q, code, `${f.union!.name}#${code}`);
          o[f.prop] = { type: `${f.union!.name}#${code}`, $raw: raw };
          break;
        }
      }
    }
    if (nslots > t.slots) {
      const extra = this.extraSlots(t, pos, vt, nslots, tsize);
      if (extra.length) o.$extra = extra;
    }
    return o;
  }

  scalar(s: number, p: number): number | bigint | boolean {
    const bb = this.bb;
    switch (s) {
      case S_BOOL: return bb.readUint8(p) !== 0;
      case S_I8: return bb.readInt8(p);
      case S_U8: return bb.readUint8(p);
      case S_I16: return bb.readInt16(p);
      case S_U16: return bb.readUint16(p);
      case S_I32: return bb.readInt32(p);
      case S_U32: return bb.readUint32(p);
      case S_I64: return bb.readInt64(p);
      case S_U64: return bb.readUint64(p);
      case S_F32: return bb.readFloat32(p);
      default: return bb.readFloat64(p);
    }
  }

  string(q: number, what: string): string {
    const n = this.bb.readUint32(q);
    this.need(q + 4, n, what);
    if (this.starts) this.starts.push(q);
    if (q + 5 + n > this.end) this.end = Math.min(q + 5 + n, this.len);
    return readUtf8(this.bytes, q + 4, q + 4 + n);
  }

  vector(f: CField, q: number, t: CTable): unknown[] {
    const bb = this.bb;
    const n = bb.readUint32(q);
    this.need(q + 4, n * f.w, `${t.name}.${f.name}`);
    if (this.starts) this.starts.push(q);
    if (q + 4 + n * f.w > this.end) this.end = q + 4 + n * f.w;
    const out: unknown[] = new Array(n);
    const base = q + 4, w = f.w;
    switch (f.s) {
      case S_I32: for (let i = 0; i < n; i++) out[i] = bb.readInt32(base + 4 * i); break;
      case S_F32: for (let i = 0; i < n; i++) out[i] = bb.readFloat32(base + 4 * i); break;
      default: for (let i = 0; i < n; i++) out[i] = this.scalar(f.s, base + w * i);
    }
    if (f.names) for (let i = 0; i < n; i++) out[i] = f.names[out[i] as number] ?? out[i];
    return out;
  }

  private unknownTable(pos: number, code: number, what: string): FbRawTable {
    const bb = this.bb;
    this.need(pos, 4, what);
    const vt = pos - bb.readInt32(pos);
    if (vt < 0 || vt + 4 > this.len || (vt & 1) !== 0) this.fail(`${what} table: vtable offset out of range`, pos);
    const vsize = bb.readUint16(vt), tsize = bb.readUint16(vt + 2);
    if (vsize < 4 || (vsize & 1) !== 0 || vt + vsize > this.len || tsize < 4 || pos + tsize > this.len) this.fail(`${what} table: malformed vtable`, vt);
    if (this.starts) this.starts.push(pos, vt);
    const raw: FbRawTable = { code, vtable: this.bytes.slice(vt, vt + vsize), bytes: new Uint8Array(0), phase: pos & 15 };
    this.pending.push({ pos, vt, tsize, raw });
    return raw;
  }

  /**
   * Completes the unknown tables met while decoding: each keeps the bytes from
   * its start to the next object the schema knows (or `limits`, e.g. where
   * external buffer data starts). Re-reads the whole buffer once, recording
   * object starts, only when there is such a table.
   */
  finishRaw(limits: number[] = []): void {
    if (this.pending.length === 0) return;
    const pending = this.pending.splice(0);
    this.starts = [];
    this.root();
    const starts = Uint32Array.from([...this.starts, ...limits, this.len]).sort();
    this.starts = null;
    this.pending.length = 0;
    for (const { pos, vt, tsize, raw } of pending) {
      let lo = 0, hi = starts.length - 1; // first start > pos
      while (lo < hi) { const mid = (lo + hi) >> 1; if (starts[mid]! > pos) hi = mid; else lo = mid + 1; }
      const end = Math.max(starts[lo]!, pos + tsize);
      raw.bytes = this.bytes.slice(pos, end);
      if (end > this.end) this.end = end;
      const nslots = (this.bb.readUint16(vt) - 4) >> 1;
      for (let i = 0; i < nslots; i++) {
        const fo = this.bb.readUint16(vt + 4 + 2 * i);
        const why = fo !== 0 ? this.pointsOutside(pos + fo, pos + tsize, pos, end) : null;
        if (why) { raw.unsafe = `slot ${i} ${why}`; break; }
      }
    }
  }

  /** Why the 4 bytes at `p` (inside a table ending at `tend`) may be an offset to data outside [lo, hi); null if not. */
  private pointsOutside(p: number, tend: number, lo: number, hi: number): string | null {
    if ((p & 3) !== 0 || p + 4 > tend) return null;
    const u = this.bb.readUint32(p), target = p + u;
    if (u < 4 || (target & 3) !== 0 || target + 4 > this.len || (target >= lo && target < hi)) return null;
    return `may hold an offset to byte ${target}, outside the ${hi - lo} bytes kept`;
  }

  private extraSlots(t: CTable, pos: number, vt: number, nslots: number, tsize: number): FbRawSlot[] {
    const bb = this.bb;
    const offs: number[] = [tsize];
    for (let i = 0; i < nslots; i++) { const fo = bb.readUint16(vt + 4 + 2 * i); if (fo) offs.push(fo); }
    offs.sort((a, b) => a - b);
    const out: FbRawSlot[] = [];
    for (let i = t.slots; i < nslots; i++) {
      const fo = bb.readUint16(vt + 4 + 2 * i);
      if (fo === 0) continue;
      if (fo >= tsize) this.fail(`${t.name}: field slot ${i} lies outside its table`, pos);
      // The field's width is unknown: take the widest scalar (≤ 8) that fits before the next field and is
      // aligned where it lies. That may include padding, which is harmless to re-emit (little-endian).
      const gap = offs.find((x) => x > fo)! - fo;
      let w = 8;
      while (w > 1 && (w > gap || (pos + fo) % w !== 0)) w >>= 1;
      const slot: FbRawSlot = { slot: i, bytes: this.bytes.slice(pos + fo, pos + fo + w) };
      const why = this.pointsOutside(pos + fo, pos + tsize, pos, pos + tsize);
      if (why) slot.unsafe = why;
      out.push(slot);
    }
    return out;
  }
}

// ---------------------------------------------------------------- encoding

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class FbWriter {
  readonly b: Builder;
  constructor(readonly schema: FbSchema, initialSize = 1024) {
    this.b = new Builder(Math.max(1024, Math.min(initialSize, 0x7fff0000)));
  }

  private bad(path: string, what: string): never {
    throw new FbEncodeError(`${path}: ${what}`);
  }

  /** Writes `obj` as table `t`; returns its offset. */
  table(t: CTable, obj: Obj, path: string): number {
    if (!isObj(obj)) this.bad(path, `expected an object for ${t.name}`);
    const b = this.b, fields = t.fields;
    const offs = new Array<number>(fields.length).fill(0);
    const codes = new Array<number>(fields.length).fill(0);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.k === K_SCALAR) continue;
      const v = obj[f.prop];
      const at = `${path}.${f.prop}`;
      switch (f.k) {
        case K_STRING:
          if (v === undefined) { if (f.presence === P_ALWAYS) offs[i] = b.createString(''); break; }
          if (typeof v !== 'string') this.bad(at, 'expected a string');
          if (f.presence === P_NONEMPTY && v === '') break;
          offs[i] = b.createString(v);
          break;
        case K_VECTOR:
          if (v === undefined) { if (f.presence === P_ALWAYS) offs[i] = this.vector(f, [], at); break; }
          if (f.presence === P_NONEMPTY && (v as unknown[]).length === 0) break;
          offs[i] = this.vector(f, v, at);
          break;
        case K_BYTES:
          if (v === undefined) { if (f.presence === P_ALWAYS) offs[i] = this.byteVector(f, new Uint8Array(0)); break; }
          if (!(v instanceof Uint8Array)) this.bad(at, 'expected a Uint8Array');
          if (f.presence === P_NONEMPTY && v.length === 0) break;
          offs[i] = this.byteVector(f, v);
          break;
        case K_TABLE:
          if (v !== undefined) offs[i] = this.table(f.table!, v as Obj, at);
          break;
        case K_TABLES: {
          if (v === undefined && f.presence !== P_ALWAYS) break;
          const arr = v ?? [];
          if (!Array.isArray(arr)) this.bad(at, 'expected an array');
          if (f.presence === P_NONEMPTY && arr.length === 0) break;
          const elems = arr.map((e, j) => this.table(f.table!, e as Obj, `${at}[${j}]`));
          b.startVector(4, elems.length, 4);
          for (let j = elems.length - 1; j >= 0; j--) b.addOffset(elems[j]!);
          offs[i] = b.endVector();
          break;
        }
        case K_UNION: {
          if (v === undefined || v === null) break;
          if (!isObj(v) || typeof v.type !== 'string') this.bad(at, `expected { type: <${f.union!.name} member>, ... }`);
          const code = f.union!.codes.get(v.type);
          if (code !== undefined) { codes[i] = code; offs[i] = this.table(f.union!.members[code]!, v, at); break; }
          const raw = v.$raw as FbRawTable | undefined;
          if (!raw) this.bad(at, `'${v.type}' is not a ${f.union!.name} member`);
          if (raw.unsafe) throw new FbEncodeError(`${at}: table type ${v.type} is unknown to this schema and cannot be re-encoded safely (${raw.unsafe})`, true);
          codes[i] = raw.code;
          offs[i] = this.rawTable(raw);
          break;
        }
      }
    }
    const extra = obj.$extra as FbRawSlot[] | undefined;
    let nslots = t.slots;
    if (extra) for (const x of extra) nslots = Math.max(nslots, x.slot + 1);
    b.startObject(nslots);
    for (const { f, unionType } of t.order) {
      const i = f.idx;
      if (f.k !== K_SCALAR) {
        if (!offs[i]) continue;
        if (unionType) b.addFieldInt8(f.id, codes[i]!, 0);
        else b.addFieldOffset(f.k === K_UNION ? f.id + 1 : f.id, offs[i]!, 0);
        continue;
      }
      const v = obj[f.prop];
      if (v === undefined && f.sparse) continue;
      this.scalarField(f, v === undefined ? f.def : v, `${path}.${f.prop}`);
    }
    if (extra) {
      for (const x of extra) {
        if (x.unsafe) throw new FbEncodeError(`${path}: field slot ${x.slot} is unknown to this schema and cannot be re-encoded safely (${x.unsafe})`, true);
        const n = x.bytes.length, a = n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1; // aligned like a scalar of its size
        b.prep(a, n);
        this.rawBytes(x.bytes);
        b.slot(x.slot);
      }
    }
    return b.endObject();
  }

  private enumCode(f: CField, v: unknown, at: string): unknown {
    if (typeof v !== 'string' || !f.codes) return v;
    const c = f.codes.get(v);
    if (c === undefined) this.bad(at, `'${v}' is not a member of the field's enum`);
    return c;
  }

  private scalarField(f: CField, v0: unknown, at: string): void {
    const b = this.b, v = this.enumCode(f, v0, at);
    switch (f.s) {
      case S_BOOL:
        if (typeof v !== 'boolean') this.bad(at, 'expected a boolean');
        b.addFieldInt8(f.id, v ? 1 : 0, f.def ? 1 : 0);
        return;
      case S_I64: case S_U64: {
        const x = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : this.bad(at, 'expected a bigint');
        const y = f.s === S_I64 ? BigInt.asIntN(64, x) : BigInt.asUintN(64, x);
        if (y !== x) this.bad(at, `${x} is out of range`);
        b.addFieldInt64(f.id, BigInt.asIntN(64, x), BigInt.asIntN(64, f.def as bigint));
        return;
      }
      case S_F32: case S_F64:
        if (typeof v !== 'number') this.bad(at, 'expected a number');
        if (f.s === S_F32) b.addFieldFloat32(f.id, v, f.def as number); else b.addFieldFloat64(f.id, v, f.def as number);
        return;
    }
    const [lo, hi] = RANGE[f.s]!;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) this.bad(at, `expected an integer in [${lo}, ${hi}], got ${String(v0)}`);
    if (f.w === 1) b.addFieldInt8(f.id, v, f.def as number);
    else if (f.w === 2) b.addFieldInt16(f.id, v, f.def as number);
    else b.addFieldInt32(f.id, v, f.def as number);
  }

  private vector(f: CField, v: unknown, at: string): number {
    if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) this.bad(at, 'expected an array');
    const arr = v as ArrayLike<unknown>, n = arr.length, b = this.b;
    b.startVector(f.w, n, Math.max(f.w, f.align));
    if (f.s === S_I32 && !f.names) {
      for (let i = n - 1; i >= 0; i--) {
        const x = arr[i];
        if (typeof x !== 'number' || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) this.bad(`${at}[${i}]`, 'expected an int32');
        b.addInt32(x);
      }
    } else if (f.s === S_F32) {
      for (let i = n - 1; i >= 0; i--) {
        const x = arr[i];
        if (typeof x !== 'number') this.bad(`${at}[${i}]`, 'expected a number');
        b.addFloat32(x);
      }
    } else {
      for (let i = n - 1; i >= 0; i--) this.element(f, arr[i], `${at}[${i}]`);
    }
    return b.endVector();
  }

  private element(f: CField, v0: unknown, at: string): void {
    const b = this.b, v = this.enumCode(f, v0, at);
    switch (f.s) {
      case S_BOOL: if (typeof v !== 'boolean') this.bad(at, 'expected a boolean'); b.addInt8(v ? 1 : 0); return;
      case S_I64: case S_U64: {
        const x = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : this.bad(at, 'expected a bigint');
        b.addInt64(BigInt.asIntN(64, x));
        return;
      }
      case S_F64: if (typeof v !== 'number') this.bad(at, 'expected a number'); b.addFloat64(v); return;
    }
    const [lo, hi] = RANGE[f.s]!;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) this.bad(at, `expected an integer in [${lo}, ${hi}]`);
    if (f.w === 1) b.addInt8(v); else if (f.w === 2) b.addInt16(v); else b.addInt32(v);
  }

  /** A [ubyte] vector whose data starts `f.align`-aligned, copied in one go. */
  private byteVector(f: CField, v: Uint8Array): number {
    if (f.align > 1) this.b.prep(f.align, v.length);
    return this.b.createByteVector(v);
  }

  /** Writes bytes verbatim at the current position (after any prep). */
  private rawBytes(v: Uint8Array): void {
    this.b.pad(v.length);
    const bb = this.b.dataBuffer();
    bb.bytes().set(v, bb.capacity() - this.b.offset());
  }

  /** Re-emits an unknown table at its original alignment phase, with a fresh copy of its vtable. */
  private rawTable(raw: FbRawTable): number {
    const b = this.b, n = raw.bytes.length;
    b.prep(16, 0);
    const pad = (((-raw.phase - b.offset() - n) % 16) + 16) % 16;
    b.prep(1, pad + n);
    b.pad(pad);
    this.rawBytes(raw.bytes);
    const table = b.offset();
    b.prep(2, raw.vtable.length);
    this.rawBytes(raw.vtable);
    const vtable = b.offset();
    const bb = b.dataBuffer();
    bb.writeInt32(bb.capacity() - table, vtable - table);
    return table;
  }

  finish(root: number, fileIdentifier: string): Uint8Array {
    this.b.finish(root, fileIdentifier);
    return this.b.asUint8Array();
  }
}
