/**
 * Dimension arithmetic for shape rules.
 *
 * Conventions for unknown dims:
 * - a named symbol (e.g. "batch", "N") is a size fixed at run time; two equal names are equal
 *   sizes. A rule that passes a dim through unchanged keeps its symbol.
 * - `UNKNOWN_DIM` ('?') is an anonymous unknown size: it is equal to nothing, not even another '?'.
 *   Rules produce it whenever a dim is computed from something unknown (a conv over a symbolic
 *   height, a concat along a symbolic axis, a reshape whose sizes are not constant...). The
 *   empty string and negative numbers (TFLite's -1) read the same way.
 * - a shape of `undefined` means unknown rank.
 */
import type { Dim } from '../tensor.js';

export const UNKNOWN_DIM = '?';

/** Largest int64, as ONNX uses it for "to the end" in Slice (read through Number()). */
export const INT64_MAX = 9223372036854775807;

export function isKnownDim(d: Dim | undefined): d is number {
  return typeof d === 'number' && d >= 0;
}

/** A named, non-anonymous symbol. */
export function isSymbol(d: Dim | undefined): d is string {
  return typeof d === 'string' && d !== '' && d !== UNKNOWN_DIM;
}

export function isUnknownDim(d: Dim | undefined): boolean {
  return !isKnownDim(d) && !isSymbol(d);
}

/** Normalise a dim as read from a format: negative numbers and '' become UNKNOWN_DIM. */
export function normDim(d: Dim): Dim {
  return isKnownDim(d) || isSymbol(d) ? d : UNKNOWN_DIM;
}

/** Same size for sure: equal numbers or equal symbols. */
export function sameDim(a: Dim | undefined, b: Dim | undefined): boolean {
  if (isKnownDim(a) && isKnownDim(b)) return a === b;
  return isSymbol(a) && a === b;
}

/** Product of dims: a number when all known, a symbol when it is one symbol times ones, else '?'. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  let sym: string | undefined;
  let unknown = false;
  for (const d of dims) {
    if (isKnownDim(d)) n *= d;
    else if (isSymbol(d) && sym === undefined) sym = d;
    else unknown = true;
  }
  if (unknown) return n === 0 ? 0 : UNKNOWN_DIM;
  if (sym !== undefined) return n === 1 ? sym : n === 0 ? 0 : UNKNOWN_DIM;
  return n;
}

/** a + b for sizes; '?' unless both known (adding 0 keeps a symbol). */
export function dimAdd(a: Dim, b: Dim): Dim {
  if (isKnownDim(a) && isKnownDim(b)) return a + b;
  if (b === 0) return a;
  if (a === 0) return b;
  return UNKNOWN_DIM;
}

/** a × k for a known k (× 1 keeps a symbol). */
export function dimScale(a: Dim, k: number): Dim {
  if (isKnownDim(a)) return a * k;
  if (k === 1) return a;
  if (k === 0) return 0;
  return UNKNOWN_DIM;
}

/**
 * Multidirectional (numpy) broadcast of two dims. Throws via `fail` when two known sizes
 * differ and neither is 1. A known size other than 1 wins over a symbol (a valid model needs
 * the symbol to be that size or 1); two different symbols give '?'.
 */
export function broadcastDim(a: Dim, b: Dim, fail: (msg: string) => never): Dim {
  if (isKnownDim(a) && isKnownDim(b)) {
    if (a === b || b === 1) return a;
    if (a === 1) return b;
    return fail(`cannot broadcast dimensions ${a} and ${b}`);
  }
  if (a === 1) return b;
  if (b === 1) return a;
  if (isKnownDim(a)) return a;
  if (isKnownDim(b)) return b;
  if (sameDim(a, b)) return a;
  return UNKNOWN_DIM;
}

/** Broadcast shapes (undefined when any rank is unknown). */
export function broadcastShapes(shapes: readonly (readonly Dim[] | undefined)[], fail: (msg: string) => never): Dim[] | undefined {
  if (shapes.length === 0) return undefined;
  let rank = 0;
  for (const s of shapes) {
    if (!s) return undefined;
    rank = Math.max(rank, s.length);
  }
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes as readonly (readonly Dim[])[]) {
      const j = s.length - rank + i;
      if (j < 0) continue;
      const sd = s[j] as Dim;
      d = broadcastDim(d, sd, (msg) => fail(`${msg} (shapes ${shapes.map((x) => fmtShape(x)).join(' and ')})`));
    }
    out.push(d);
  }
  return out;
}

/** Normalise a possibly negative axis (counted from the back) into [0, rank), or [0, rank] with `inclusive`. */
export function normAxis(axis: number, rank: number, fail: (msg: string) => never, inclusive = false): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank || (a === rank && !inclusive)) return fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** '[1,3,224,224]', '[batch,?]', or '?' for unknown rank. */
export function fmtShape(shape: readonly Dim[] | undefined): string {
  return shape ? `[${shape.join(',')}]` : '?';
}

/**
 * The more specific of two dims describing the same value: a number beats a symbol, a symbol
 * beats '?'; on a tie the first (`a`, e.g. the declared one) wins.
 */
export function moreSpecificDim(a: Dim, b: Dim): Dim {
  if (isKnownDim(a)) return a;
  if (isKnownDim(b)) return b;
  if (isSymbol(a)) return a;
  if (isSymbol(b)) return b;
  return a;
}

/** Merge two shapes of one value, preferring `a` (undefined when both are). Ranks differ → `a`. */
export function mergeShapes(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): Dim[] | undefined {
  if (!a) return b ? [...b] : undefined;
  if (!b || a.length !== b.length) return [...a];
  return a.map((d, i) => moreSpecificDim(d, b[i] as Dim));
}

/** True when two shapes contradict each other: ranks differ, or a known dim differs. */
export function shapesConflict(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): boolean {
  if (!a || !b) return false;
  if (a.length !== b.length) return true;
  return a.some((d, i) => isKnownDim(d) && isKnownDim(b[i]) && d !== b[i]);
}
