/** Resolve an op entry's versioned inputs, outputs and attributes at one opset. */
import type { AttrSpec, IOSpec, OpDef, Versioned } from './types.js';

/** The opset assumed when a graph declares none for the default domain. */
export const DEFAULT_OPSET = 21;

export function inRange(v: Versioned, opset: number): boolean {
  return (v.since === undefined || opset >= v.since) && (v.before === undefined || opset < v.before);
}

/** An input or output slot as it is at one opset. */
export interface ResolvedIO {
  name: string;
  optional: boolean;
  variadic: boolean;
}

function resolveIO(specs: readonly IOSpec[], opset: number): ResolvedIO[] {
  return specs.filter((s) => inRange(s, opset)).map((s) => ({
    name: s.name,
    optional: s.optional === true || (s.optionalSince !== undefined && opset >= s.optionalSince),
    variadic: s.variadic === true,
  }));
}

export function inputsAt(def: OpDef, opset: number): ResolvedIO[] {
  return resolveIO(def.inputs, opset);
}

export function outputsAt(def: OpDef, opset: number): ResolvedIO[] {
  return resolveIO(def.outputs, opset);
}

/** The attributes an op has at one opset (version variants resolved). */
export function attrsAt(def: OpDef, opset: number): Record<string, AttrSpec> {
  const out: Record<string, AttrSpec> = {};
  for (const [name, spec] of Object.entries(def.attrs)) {
    const variants = Array.isArray(spec) ? spec : [spec];
    const hit = variants.find((v) => inRange(v, opset));
    if (hit) out[name] = hit;
  }
  return out;
}
