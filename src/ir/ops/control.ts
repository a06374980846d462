/**
 * Control flow: If, Loop, Scan. Their bodies are subgraph attributes; shape rules here read
 * only the bodies' declared outputs (bodies are not inferred).
 */
import type { Graph } from '../graph.js';
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM, sameDim } from './dims.js';
import type { InferContext, OpDef, ValueType } from './types.js';

function mergeBranches(a: ValueType | undefined, b: ValueType | undefined): ValueType {
  if (!a || !b) return {};
  const dtype = a.dtype === b.dtype ? a.dtype : undefined;
  if (!a.shape || !b.shape || a.shape.length !== b.shape.length) return { dtype };
  const sb = b.shape;
  return { dtype, shape: a.shape.map((d, i) => (sameDim(d, sb[i]) ? d : UNKNOWN_DIM)) };
}

function bodyOutput(g: Graph | undefined, i: number): ValueType | undefined {
  const v = g?.outputs[i];
  return v ? { dtype: v.dtype, shape: v.shape ? [...v.shape] : undefined } : undefined;
}

function loopRule(ctx: InferContext): ValueType[] {
  const body = ctx.graph('body');
  const n = Math.max(ctx.inputCount - 2, 0);
  const out: ValueType[] = [];
  for (let i = 0; i < ctx.outputCount; i++) {
    const b = bodyOutput(body, i + 1);
    if (i < n) {
      const init = ctx.type(i + 2);
      out.push({ dtype: init.dtype ?? b?.dtype, shape: mergeBranches(init, b).shape });
    } else {
      out.push({ dtype: b?.dtype, shape: b?.shape ? [UNKNOWN_DIM as Dim, ...b.shape] : undefined });
    }
  }
  return out;
}

export const CONTROL_OPS: OpDef[] = [
  {
    name: 'If', category: 'control',
    inputs: [{ name: 'cond' }], outputs: [{ name: 'outputs', variadic: true }],
    attrs: { then_branch: { type: 'graph', required: true }, else_branch: { type: 'graph', required: true } },
    infer: (ctx) => {
      const t = ctx.graph('then_branch');
      const e = ctx.graph('else_branch');
      return Array.from({ length: ctx.outputCount }, (_, i) => mergeBranches(bodyOutput(t, i), bodyOutput(e, i)));
    },
  },
  {
    name: 'Loop', category: 'control',
    inputs: [{ name: 'M', optional: true }, { name: 'cond', optional: true }, { name: 'v_initial', optional: true, variadic: true }],
    outputs: [{ name: 'v_final_and_scan_outputs', variadic: true }],
    attrs: { body: { type: 'graph', required: true } },
    infer: loopRule,
  },
  {
    name: 'Scan', category: 'control', since: 8,
    inputs: [
      { name: 'sequence_lens', optional: true, before: 9 },
      { name: 'initial_state_and_scan_inputs', variadic: true },
    ],
    outputs: [{ name: 'final_state_and_scan_outputs', variadic: true }],
    attrs: {
      body: { type: 'graph', required: true },
      num_scan_inputs: { type: 'int', required: true },
      directions: { type: 'ints', before: 9 },
      scan_input_axes: { type: 'ints', since: 9 },
      scan_input_directions: { type: 'ints', since: 9 },
      scan_output_axes: { type: 'ints', since: 9 },
      scan_output_directions: { type: 'ints', since: 9 },
    },
    infer: (ctx) => {
      const body = ctx.graph('body');
      return Array.from({ length: ctx.outputCount }, (_, i) => ({ dtype: body?.outputs[i]?.dtype }));
    },
  },
];
