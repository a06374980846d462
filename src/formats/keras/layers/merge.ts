/**
 * Merge layers: Add, Subtract, Multiply, Maximum, Minimum, Average, Concatenate.
 */
import { type LayerCall, type LayerHandler, int } from '../context.js';

/** n-ary ops of the IR (Sum, Max, Min, Mean take any number of inputs). */
const variadic = (op: string): LayerHandler => ({
  apply(c: LayerCall) {
    const y = c.out();
    c.b.node(op, [...c.inputs], [y]);
    return y;
  },
});

/** Binary ops chained over the inputs: ((a · b) · c)... */
const chained = (op: string): LayerHandler => ({
  apply(c: LayerCall) {
    if (c.inputs.length < 2) c.fail(`needs at least 2 inputs, got ${c.inputs.length}`);
    let acc = c.inputs[0]!;
    for (let i = 1; i < c.inputs.length; i++) {
      const y = c.out(i === c.inputs.length - 1 ? '' : `/${i}`);
      c.b.node(op, [acc, c.inputs[i]!], [y]);
      acc = y;
    }
    return acc;
  },
});

const subtract: LayerHandler = {
  apply(c) {
    if (c.inputs.length !== 2) c.fail(`needs exactly 2 inputs, got ${c.inputs.length}`);
    return chained('Sub').apply(c);
  },
};

const concatenate: LayerHandler = {
  apply(c) {
    const y = c.out();
    c.b.node('Concat', [...c.inputs], [y], { axis: int(c.get('axis', -1)) });
    return y;
  },
};

export const MERGE_LAYERS: Record<string, LayerHandler> = {
  Add: variadic('Sum'),
  Subtract: subtract,
  Multiply: chained('Mul'),
  Maximum: variadic('Max'),
  Minimum: variadic('Min'),
  Average: variadic('Mean'),
  Concatenate: concatenate,
};
