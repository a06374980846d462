/**
 * (Over ~400 lines on purpose: the reader and the writer walk the same schema and share its
 * helpers; split apart they would each need the other's internals.)
 *
 * A small schema-driven protobuf wire-format codec (proto2 semantics).
 *
 * Decoding: a present field sets its camelCase property; absent fields (also
 * absent repeated ones) stay undefined, defaults are never filled. `bytes` are
 * zero-copy subarray views; packed `typed` fields become typed arrays, views
 * over the input when aligned, else one bulk slice copy (little-endian host
 * assumed, as Node is everywhere it runs). Views alias the input buffer.
 * Unknown fields (or known numbers with an unexpected wire type) are kept
 * verbatim, tag included, in `$unknown` and re-emitted after known fields.
 * Repeated numerics are accepted packed or unpacked and written as the schema
 * says. Invalid UTF-8 in strings decodes lossily to U+FFFD. int64/uint64
 * scalars are `number`s (exact to 2^53); encoding clamps to the 64-bit range.
 *
 * Encoding: pass 1 computes every nested message / string / packed-varint
 * payload length into one array (pre-order); pass 2 allocates one buffer and
 * writes, consuming those lengths in the same order.
 */

export type ScalarKind = 'int32' | 'enum' | 'int64' | 'uint64' | 'float' | 'double' | 'string' | 'bytes';
/** `name` is the snake_case proto name (property: camelCase); `type` names the message type;
 *  `packed` writes a repeated scalar packed; `typed` (needs packed) decodes to a typed array. */
export interface FieldSpec {
  readonly no: number; readonly name: string; readonly kind: ScalarKind | 'message'; readonly type?: string;
  readonly repeated?: boolean; readonly packed?: boolean; readonly typed?: boolean;
}
export type SchemaSpec = Readonly<Record<string, readonly FieldSpec[]>>;
export type ProtoObject = Record<string, unknown>;

/** Thrown for bytes that are not a well-formed message of the requested type. */
export class ProtoDecodeError extends Error {
  override name = 'ProtoDecodeError';
}

const K_INT32 = 0, K_INT64 = 1, K_UINT64 = 2, K_FLOAT = 3, K_DOUBLE = 4, K_STRING = 5, K_BYTES = 6, K_MESSAGE = 7;
const KIND_CODE: Record<FieldSpec['kind'], number> = {
  int32: K_INT32, enum: K_INT32, int64: K_INT64, uint64: K_UINT64, float: K_FLOAT,
  double: K_DOUBLE, string: K_STRING, bytes: K_BYTES, message: K_MESSAGE,
};
const WIRE_OF = [0, 0, 0, 5, 1, 2, 2, 2];
const TWO32 = 4294967296;
/** Protobuf's own default recursion limit is 100; ONNX subgraphs nest 3 per level. */
const MAX_DEPTH = 200;

interface CField {
  no: number; name: string; prop: string; k: number; wt: number;
  rep: boolean; packed: boolean; typed: boolean; msg: CMessage | null;
  tag: number; ptag: number; tagLen: number;
}
export interface CMessage { readonly name: string; fields: CField[]; byNo: (CField | undefined)[]; typed: CField[] }

export class Schema {
  private readonly msgs = new Map<string, CMessage>();
  constructor(spec: SchemaSpec) {
    for (const name of Object.keys(spec)) this.msgs.set(name, { name, fields: [], byNo: [], typed: [] });
    for (const [name, specs] of Object.entries(spec)) {
      const m = this.get(name);
      for (const s of specs) {
        const k = KIND_CODE[s.kind];
        if (s.typed && !(s.packed && k <= K_DOUBLE)) throw new Error(`${name}.${s.name}: typed needs a packed numeric field`);
        const f: CField = {
          no: s.no, name: s.name, prop: s.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
          k, wt: WIRE_OF[k]!, rep: !!s.repeated, packed: !!s.packed, typed: !!s.typed,
          msg: k === K_MESSAGE ? this.get(s.type ?? '?') : null,
          tag: s.no * 8 + WIRE_OF[k]!, ptag: s.no * 8 + 2, tagLen: varintSize(s.no * 8),
        };
        if (m.byNo[s.no]) throw new Error(`${name}: duplicate field number ${s.no}`);
        m.byNo[s.no] = f;
        m.fields.push(f);
        if (f.typed) m.typed.push(f);
      }
      m.fields.sort((a, b) => a.no - b.no);
    }
  }
  get(name: string): CMessage {
    const m = this.msgs.get(name);
    if (m) return m;
    throw new Error(`unknown protobuf message type '${name}'`);
  }
}

// ---------------------------------------------------------------- decoding

interface Reader { buf: Uint8Array; dv: DataView; pos: number }
type Typed = Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array;
/** Several chunks (packed and/or loose elements) for one typed field; merged at message end. */
class PendingTyped { parts: (Typed | number[] | bigint[])[] = []; }
const TYPED_CTOR = [Int32Array, BigInt64Array, BigUint64Array, Float32Array, Float64Array];
let LO = 0, HI = 0; // result registers of readVarint / split64

const where = (m: CMessage, no: number): string =>
  no === 0 ? `a tag of ${m.name}` : `field ${no}${m.byNo[no] ? ` (${m.byNo[no]!.name})` : ''} of ${m.name}`;
function fail(what: string, r: Reader, m: CMessage, no: number): never {
  throw new ProtoDecodeError(`${what} in ${where(m, no)} at byte ${r.pos}`);
}

function readVarint(r: Reader, end: number, m: CMessage, no: number): void {
  const b = r.buf;
  let p = r.pos, lo = 0, hi = 0;
  for (let i = 0; ; i++) {
    if (p >= end) fail('truncated protobuf: varint runs past the end', r, m, no);
    const x = b[p++]!;
    if (i < 4) lo |= (x & 0x7f) << (7 * i);
    else if (i === 4) { lo |= (x & 0x0f) << 28; hi = (x & 0x7f) >> 4; }
    else hi |= (x & 0x7f) << (7 * i - 32);
    if (x < 0x80) break;
    if (i === 9) fail('malformed protobuf: varint longer than 10 bytes', r, m, no);
  }
  r.pos = p; LO = lo >>> 0; HI = hi >>> 0;
}
function readLen(r: Reader, end: number, m: CMessage, no: number): number {
  const x = r.buf[r.pos];
  if (x !== undefined && x < 0x80 && r.pos < end) r.pos++, LO = x, HI = 0;
  else readVarint(r, end, m, no);
  const left = end - r.pos;
  if (HI !== 0 || LO > left) {
    throw new ProtoDecodeError(`truncated protobuf: ${where(m, no)} needs ${HI * TWO32 + LO} bytes, ${left} left (at byte ${r.pos})`);
  }
  return LO;
}
const need = (r: Reader, n: number, end: number, m: CMessage, no: number): void => {
  if (end - r.pos < n) fail(`truncated protobuf: ${n}-byte value runs past the end`, r, m, no);
};

/** One numeric element (wire type already checked) as a JS number. */
function readNum(r: Reader, k: number, end: number, m: CMessage, no: number): number {
  let v: number;
  switch (k) {
    case K_FLOAT: need(r, 4, end, m, no); v = r.dv.getFloat32(r.pos, true); r.pos += 4; return v;
    case K_DOUBLE: need(r, 8, end, m, no); v = r.dv.getFloat64(r.pos, true); r.pos += 8; return v;
  }
  const x = r.buf[r.pos];
  if (x !== undefined && x < 0x80 && r.pos < end) { r.pos++; return x; }
  readVarint(r, end, m, no);
  return k === K_INT32 ? LO | 0 : k === K_INT64 ? (HI | 0) * TWO32 + LO : HI * TWO32 + LO;
}

// Node's native Buffer#utf8Slice accepts any Uint8Array and is ~2x faster than TextDecoder on short
// names; both keep a BOM and map invalid UTF-8 to U+FFFD. TextDecoder is the fallback.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const nativeSlice = (Buffer.prototype as unknown as { utf8Slice?: (this: Uint8Array, a: number, b: number) => string }).utf8Slice;
const readString: (buf: Uint8Array, a: number, b: number) => string = nativeSlice
  ? (buf, a, b) => nativeSlice.call(buf, a, b) : (buf, a, b) => utf8.decode(buf.subarray(a, b));

/** A packed chunk [r.pos, end) of a typed field, decoded to one typed array. */
function readTyped(r: Reader, f: CField, end: number, m: CMessage): Typed {
  const { buf } = r;
  const len = end - r.pos;
  if (f.k === K_FLOAT || f.k === K_DOUBLE) {
    const size = f.k === K_FLOAT ? 4 : 8;
    if (len % size !== 0) fail(`malformed protobuf: packed ${len}-byte payload is not a multiple of ${size}`, r, m, f.no);
    const abs = buf.byteOffset + r.pos;
    const [ab, off] = abs % size === 0 ? [buf.buffer, abs] : [buf.slice(r.pos, end).buffer, 0];
    r.pos = end;
    return f.k === K_FLOAT ? new Float32Array(ab, off, len / 4) : new Float64Array(ab, off, len / 8);
  }
  let n = 0;
  for (let p = r.pos; p < end; p++) if (buf[p]! < 0x80) n++;
  if (len > 0 && buf[end - 1]! >= 0x80) fail('truncated protobuf: packed varint runs past the end', r, m, f.no);
  const step = f.k === K_INT32 ? 1 : 2; // 64-bit elements are written as (lo, hi) uint32 pairs
  const out = new TYPED_CTOR[f.k]!(n), w = new Uint32Array(out.buffer);
  for (let j = 0; j < n * step; j += step) {
    const x = buf[r.pos]!;
    if (x < 0x80) { r.pos++; w[j] = x; } else { readVarint(r, end, m, f.no); w[j] = LO; if (step === 2) w[j + 1] = HI; }
  }
  return out;
}

function finishTyped(p: PendingTyped, f: CField): Typed {
  let n = 0, at = 0;
  for (const part of p.parts) n += part.length;
  const out = new TYPED_CTOR[f.k]!(n);
  for (const part of p.parts) { (out as Float32Array).set(part as Float32Array, at); at += part.length; }
  return out;
}

function addTyped(o: ProtoObject, f: CField, part: Typed | number[] | bigint[]): boolean {
  const cur = o[f.prop];
  if (cur === undefined && !Array.isArray(part)) { o[f.prop] = part; return false; }
  let p: PendingTyped;
  if (cur instanceof PendingTyped) p = cur;
  else { p = new PendingTyped(); if (cur !== undefined) p.parts.push(cur as Typed); o[f.prop] = p; }
  const last = p.parts[p.parts.length - 1];
  if (Array.isArray(part) && Array.isArray(last)) (last as unknown[]).push(part[0]); else p.parts.push(part);
  return true;
}

function skipField(r: Reader, wt: number, no: number, end: number, m: CMessage, depth: number): void {
  switch (wt) {
    case 0: readVarint(r, end, m, no); return;
    case 1: need(r, 8, end, m, no); r.pos += 8; return;
    case 5: need(r, 4, end, m, no); r.pos += 4; return;
    case 2: { const len = readLen(r, end, m, no); r.pos += len; return; }
    case 3: {
      if (depth > MAX_DEPTH) fail('malformed protobuf: groups nested too deeply', r, m, no);
      for (;;) {
        if (r.pos >= end) fail('truncated protobuf: unterminated group', r, m, no);
        readVarint(r, end, m, no);
        if ((LO & 7) === 4) { if (LO >>> 3 !== no) fail('malformed protobuf: mismatched end-group', r, m, no); return; }
        skipField(r, LO & 7, LO >>> 3, end, m, depth + 1);
      }
    }
    default: fail(`malformed protobuf: invalid wire type ${wt}`, r, m, no);
  }
}

function decodeBody(r: Reader, m: CMessage, end: number, depth: number, into?: ProtoObject): ProtoObject {
  if (depth > MAX_DEPTH) throw new ProtoDecodeError(`malformed protobuf: messages nested deeper than ${MAX_DEPTH} at ${m.name}`);
  const o: ProtoObject = into ?? {};
  const buf = r.buf;
  let pending = false;
  while (r.pos < end) {
    const start = r.pos;
    let tag = buf[start]!;
    if (tag < 0x80) r.pos++;
    else { readVarint(r, end, m, 0); if (HI !== 0) fail('malformed protobuf: tag exceeds 32 bits', r, m, 0); tag = LO; }
    const no = tag >>> 3, wt = tag & 7;
    if (no === 0) fail('malformed protobuf: field number 0', r, m, 0);
    const f = m.byNo[no];
    if (f !== undefined && wt === f.wt) {
      const k = f.k;
      if (k === K_MESSAGE) {
        const len = readLen(r, end, m, no);
        if (f.rep) {
          const v = decodeBody(r, f.msg!, r.pos + len, depth + 1);
          if (o[f.prop]) (o[f.prop] as ProtoObject[]).push(v); else o[f.prop] = [v];
        } else o[f.prop] = decodeBody(r, f.msg!, r.pos + len, depth + 1, o[f.prop] as ProtoObject | undefined);
        continue;
      }
      let v: unknown;
      if (k === K_STRING || k === K_BYTES) {
        const len = readLen(r, end, m, no);
        v = k === K_STRING ? readString(buf, r.pos, r.pos + len) : buf.subarray(r.pos, r.pos + len);
        r.pos += len;
      } else {
        if (f.typed) {
          let part: number[] | bigint[];
          if (k !== K_INT64 && k !== K_UINT64) part = [readNum(r, k, end, m, no)];
          else { readVarint(r, end, m, no); const v = (BigInt(HI) << 32n) | BigInt(LO); part = [k === K_INT64 ? BigInt.asIntN(64, v) : v]; }
          pending = addTyped(o, f, part) || pending;
          continue;
        }
        v = readNum(r, k, end, m, no);
      }
      if (!f.rep) o[f.prop] = v;
      else if (o[f.prop]) (o[f.prop] as unknown[]).push(v); else o[f.prop] = [v];
      continue;
    }
    if (f !== undefined && wt === 2 && f.rep && f.k <= K_DOUBLE) {
      const len = readLen(r, end, m, no);
      const stop = r.pos + len;
      if (f.typed) { pending = addTyped(o, f, readTyped(r, f, stop, m)) || pending; continue; }
      const arr = (o[f.prop] as number[] | undefined) ?? (o[f.prop] = []) as number[];
      while (r.pos < stop) arr.push(readNum(r, f.k, stop, m, no));
      continue;
    }
    skipField(r, wt, no, end, m, depth);
    const raw = buf.subarray(start, r.pos);
    const unk = o.$unknown as Uint8Array[] | undefined;
    if (unk) unk.push(raw); else o.$unknown = [raw];
  }
  if (pending) {
    for (const f of m.typed) { const v = o[f.prop]; if (v instanceof PendingTyped) o[f.prop] = finishTyped(v, f); }
  }
  return o;
}

/** Decodes `bytes` as message `type`. Throws ProtoDecodeError on malformed input. */
export function decode(schema: Schema, type: string, bytes: Uint8Array): ProtoObject {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('protobuf decode expects a Uint8Array');
  // A plain Uint8Array (not a Buffer subclass) over the same memory; all positions are relative to it.
  const buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r: Reader = { buf, dv: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), pos: 0 };
  return decodeBody(r, schema.get(type), buf.length, 0);
}

// ---------------------------------------------------------------- encoding

interface Writer { buf: Uint8Array; dv: DataView; pos: number; sizes: number[]; si: number }

/** Splits an int64/uint64 `number` into LO/HI (uint32 halves), clamping to the 64-bit range. */
function split64(v: number, signed: boolean, f: CField): void {
  if (v >= 0 && v < TWO32) { LO = v >>> 0; HI = 0; return; }
  if (typeof v !== 'number' || v !== v) throw new TypeError(`field ${f.name}: expected an integer, got ${String(v)}`);
  if (signed ? v >= 9223372036854775807 : v >= 18446744073709551615) { LO = 0xffffffff; HI = signed ? 0x7fffffff : 0xffffffff; return; }
  if (signed ? v <= -9223372036854775808 : v <= 0) { LO = 0; HI = signed ? 0x80000000 : 0; return; }
  const t = Math.trunc(v), hi = Math.floor(t / TWO32);
  LO = (t - hi * TWO32) >>> 0; HI = hi >>> 0;
}

function size64(): number {
  return HI === 0 ? varintSize(LO) : HI < 0x8 ? 5 : HI < 0x400 ? 6 : HI < 0x20000 ? 7 : HI < 0x1000000 ? 8 : HI < 0x80000000 ? 9 : 10;
}

function numSize(f: CField, v: number): number {
  switch (f.k) {
    case K_FLOAT: return 4;
    case K_DOUBLE: return 8;
    case K_INT32: { const x = v | 0; return x < 0 ? 10 : varintSize(x); }
    default: split64(v, f.k === K_INT64, f); return size64();
  }
}

function utf8Len(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 2; i++; }
    else n += 2; // BMP char, or a lone surrogate written as U+FFFD
  }
  return n;
}

function sizeOne(f: CField, v: unknown, sizes: number[], depth: number, m: CMessage): number {
  switch (f.k) {
    case K_STRING: {
      if (typeof v !== 'string') throw new TypeError(`${m.name}.${f.prop} must be a string`);
      const L = utf8Len(v); sizes.push(L); return varintSize(L) + L;
    }
    case K_BYTES:
      if (!(v instanceof Uint8Array)) throw new TypeError(`${m.name}.${f.prop} must be a Uint8Array`);
      return varintSize(v.length) + v.length;
    case K_MESSAGE: { // reserve the slot first: pre-order, as writeOne consumes it
      const i = sizes.push(0) - 1, L = sizeBody(v as ProtoObject, f.msg!, sizes, depth + 1);
      sizes[i] = L; return varintSize(L) + L;
    }
    default: return numSize(f, v as number);
  }
}

function sizeBody(o: ProtoObject, m: CMessage, sizes: number[], depth: number): number {
  if (depth > MAX_DEPTH) throw new Error(`cannot encode ${m.name}: nested deeper than ${MAX_DEPTH} (cyclic object?)`);
  let total = 0;
  for (const f of m.fields) {
    const v = o[f.prop];
    if (v === undefined || v === null) continue;
    if (!f.rep) { total += f.tagLen + sizeOne(f, v, sizes, depth, m); continue; }
    if (f.typed ? !(v instanceof TYPED_CTOR[f.k]!) : !Array.isArray(v)) {
      throw new TypeError(`${m.name}.${f.prop} must be ${f.typed ? `a ${TYPED_CTOR[f.k]!.name}` : 'an array'}`);
    }
    const arr = v as ArrayLike<unknown>, n = arr.length;
    if (n === 0) continue;
    if (!f.packed) { for (let i = 0; i < n; i++) total += f.tagLen + sizeOne(f, arr[i], sizes, depth, m); continue; }
    let p = 0;
    if (f.k === K_FLOAT || f.k === K_DOUBLE) p = n * (f.k === K_FLOAT ? 4 : 8);
    else {
      if (f.typed && f.k !== K_INT32) {
        const u = new Uint32Array((v as BigInt64Array).buffer, (v as BigInt64Array).byteOffset, 2 * n);
        for (let i = 0; i < 2 * n; i += 2) { LO = u[i]!; HI = u[i + 1]!; p += size64(); }
      } else for (let i = 0; i < n; i++) p += numSize(f, arr[i] as number);
      sizes.push(p);
    }
    total += f.tagLen + varintSize(p) + p;
  }
  const unk = o.$unknown as Uint8Array[] | undefined;
  if (unk) for (const u of unk) total += u.length;
  return total;
}

/** Writes an unsigned 32-bit varint. */
function wv(w: Writer, v: number): void {
  const b = w.buf;
  let p = w.pos;
  for (; v >= 0x80; v >>>= 7) b[p++] = (v & 0x7f) | 0x80;
  b[p++] = v;
  w.pos = p;
}
/** Writes a 64-bit varint from uint32 halves. */
function wv64(w: Writer, lo: number, hi: number): void {
  const b = w.buf;
  let p = w.pos;
  for (; hi !== 0 || lo >= 0x80; hi >>>= 7) { b[p++] = (lo & 0x7f) | 0x80; lo = ((lo >>> 7) | (hi << 25)) >>> 0; }
  b[p++] = lo;
  w.pos = p;
}

function writeNum(w: Writer, f: CField, v: number): void {
  switch (f.k) {
    case K_FLOAT: w.dv.setFloat32(w.pos, v, true); w.pos += 4; return;
    case K_DOUBLE: w.dv.setFloat64(w.pos, v, true); w.pos += 8; return;
    case K_INT32: { const x = v | 0; if (x >= 0) wv(w, x); else wv64(w, x >>> 0, 0xffffffff); return; }
    default: split64(v, f.k === K_INT64, f); wv64(w, LO, HI);
  }
}

const utf8enc = new TextEncoder();
function writeOne(w: Writer, f: CField, v: unknown): void {
  switch (f.k) {
    case K_STRING: {
      const L = w.sizes[w.si++]!, s = v as string, b = w.buf;
      wv(w, L);
      if (L === s.length) for (let i = 0, q = w.pos; i < L; i++) b[q + i] = s.charCodeAt(i); // ASCII
      else utf8enc.encodeInto(s, b.subarray(w.pos, w.pos + L));
      w.pos += L;
      return;
    }
    case K_BYTES: { const b = v as Uint8Array; wv(w, b.length); w.buf.set(b, w.pos); w.pos += b.length; return; }
    case K_MESSAGE: wv(w, w.sizes[w.si++]!); writeBody(w, v as ProtoObject, f.msg!); return;
    default: writeNum(w, f, v as number);
  }
}

function writeBody(w: Writer, o: ProtoObject, m: CMessage): void {
  for (const f of m.fields) {
    const v = o[f.prop];
    if (v === undefined || v === null) continue;
    if (!f.rep) { wv(w, f.tag); writeOne(w, f, v); continue; }
    const arr = v as ArrayLike<number>, n = arr.length;
    if (n === 0) continue;
    if (!f.packed) { for (let i = 0; i < n; i++) { wv(w, f.tag); writeOne(w, f, arr[i]); } continue; }
    wv(w, f.ptag);
    if (f.typed && (f.k === K_FLOAT || f.k === K_DOUBLE)) {
      const t = v as Float32Array, bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
      wv(w, bytes.length); w.buf.set(bytes, w.pos); w.pos += bytes.length;
      continue;
    }
    wv(w, f.k === K_FLOAT ? 4 * n : f.k === K_DOUBLE ? 8 * n : w.sizes[w.si++]!);
    if (f.typed && f.k !== K_INT32) {
      const u = new Uint32Array((v as BigInt64Array).buffer, (v as BigInt64Array).byteOffset, 2 * n);
      for (let i = 0; i < 2 * n; i += 2) wv64(w, u[i]!, u[i + 1]!);
    } else for (let i = 0; i < n; i++) writeNum(w, f, arr[i]!);
  }
  const unk = o.$unknown as Uint8Array[] | undefined;
  if (unk) for (const u of unk) { w.buf.set(u, w.pos); w.pos += u.length; }
}

/** Encodes `obj` as message `type` into one freshly allocated buffer. */
export function encode(schema: Schema, type: string, obj: ProtoObject): Uint8Array {
  const m = schema.get(type);
  const sizes: number[] = [];
  const n = sizeBody(obj, m, sizes, 0);
  // Every byte is written below (checked), so uninitialised memory never escapes.
  const buf = new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
  const w: Writer = { buf, dv: new DataView(buf.buffer, 0, n), pos: 0, sizes, si: 0 };
  writeBody(w, obj, m);
  if (w.pos !== n) throw new Error(`protobuf encoder wrote ${w.pos} of ${n} bytes (object changed while encoding?)`);
  return buf;
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
