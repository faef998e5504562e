/**
 * The compiled program before slot numbering: a hash-consed DAG of plan ops. Identical
 * sub-expressions share one node (and so one slot, and one fit), and slots are numbered only at
 * emission, because a `vocab_one_hot` learns its width when it is fitted.
 */
import { opWidth } from '../plan/validate.js';
import { PLAN_FORMAT, PLAN_VERSION, type OpName, type Plan, type PlanInput, type PlanOp, type SlotType } from '../plan/types.js';
import type { Span } from './source.js';

/** Fitted functions: their parameters come from the training set. */
export type FitKind = 'standardize' | 'min_max' | 'fill_mean' | 'fill_median' | 'vocab_one_hot';

export type GraphNode =
  | { id: number; kind: 'input'; input: PlanInput }
  | { id: number; kind: 'op'; op: OpName; args: number[]; params: Record<string, unknown>; type: SlotType }
  | { id: number; kind: 'fit'; fit: FitKind; args: number[]; top?: number; span: Span; output: string };

/** An output line: a node, and for one-hot nodes the column prefix (`name__category`). */
export interface GraphOutput {
  name: string;
  node: number;
  multi: boolean;
}

/** What a fitted node learned: plain op parameters, ready to freeze. */
export type FittedParams =
  | { fit: 'standardize'; mean: number; std: number }
  | { fit: 'min_max'; min: number; max: number }
  | { fit: 'fill_mean' | 'fill_median'; value: number }
  | { fit: 'vocab_one_hot'; categories: string[] };

type FitNode = Extract<GraphNode, { kind: 'fit' }>;

export class Graph {
  readonly nodes: GraphNode[] = [];
  private readonly keys = new Map<string, number>();
  /** The fitted nodes in creation order, kept as they are made: callers ask per output line. */
  private readonly fits: FitNode[] = [];

  private intern(key: string, make: (id: number) => GraphNode): number {
    const known = this.keys.get(key);
    if (known !== undefined) return known;
    const id = this.nodes.length;
    this.nodes.push(make(id));
    this.keys.set(key, id);
    return id;
  }

  input(name: string, type: SlotType): number {
    return this.intern(`in:${name}`, (id) => ({ id, kind: 'input', input: { name, type } }));
  }

  op(op: OpName, args: number[], params: Record<string, unknown> = {}, type: SlotType = 'num'): number {
    return this.intern(`op:${op}:${args.join(',')}:${JSON.stringify(params)}`, (id) => ({ id, kind: 'op', op, args, params, type }));
  }

  constant(value: number | null): number {
    return this.op('const', [], { value });
  }

  fit(fit: FitKind, arg: number, span: Span, output: string, top?: number): number {
    return this.intern(`fit:${fit}:${arg}:${top ?? ''}`, (id) => {
      const node: FitNode = { id, kind: 'fit', fit, args: [arg], span, output, ...(top === undefined ? {} : { top }) };
      this.fits.push(node);
      return node;
    });
  }

  fitNodes(): FitNode[] {
    return [...this.fits];
  }
}

/** The op a fitted node becomes once its parameters are known. */
export function frozenOp(fit: FitKind, arg: number, params: FittedParams): PlanOp {
  switch (params.fit) {
    case 'standardize':
      return { op: 'standardize', args: [arg], mean: params.mean, std: params.std };
    case 'min_max':
      return { op: 'min_max', args: [arg], min: params.min, max: params.max };
    case 'fill_mean':
    case 'fill_median':
      return { op: 'fill_null', args: [arg], value: params.value };
    case 'vocab_one_hot':
      return { op: 'one_hot', args: [arg], categories: params.categories };
    default:
      throw new Error(`unreachable: ${fit}`);
  }
}

export interface Emitted {
  plan: Plan;
  /** Plan op index of each emitted fitted node, by node id. */
  fittedOps: Map<number, number>;
  /** First slot of each emitted node, by node id. */
  slotOf: Map<number, number>;
}

/**
 * Numbers slots and writes the plan. `params(node)` gives each fitted node's parameters (learned,
 * or placeholders for a draft). `roots` limits emission to what those nodes need (for fitting).
 * Inputs are listed in order of first use, so the plan reads like the spec.
 */
export function emit(graph: Graph, outputs: GraphOutput[], params: (node: Extract<GraphNode, { kind: 'fit' }>) => FittedParams, roots?: number[]): Emitted {
  const needed = new Set<number>();
  const stack = roots ? [...roots] : outputs.map((o) => o.node);
  while (stack.length) {
    const id = stack.pop() as number;
    if (needed.has(id)) continue;
    needed.add(id);
    const node = graph.nodes[id] as GraphNode;
    if (node.kind !== 'input') stack.push(...node.args);
  }
  const order = [...needed].sort((a, b) => a - b); // creation order is a topological order
  const inputs = order.filter((id) => graph.nodes[id]?.kind === 'input');
  const slotOf = new Map<number, number>();
  const plan: Plan = { format: PLAN_FORMAT, version: PLAN_VERSION, inputs: [], ops: [], outputs: [], output_names: [] };
  for (const id of inputs) {
    slotOf.set(id, plan.inputs.length);
    plan.inputs.push((graph.nodes[id] as Extract<GraphNode, { kind: 'input' }>).input);
  }
  const fittedOps = new Map<number, number>();
  let next = plan.inputs.length;
  const categories = new Map<number, string[]>();
  for (const id of order) {
    const node = graph.nodes[id] as GraphNode;
    if (node.kind === 'input') continue;
    const args = node.args.map((a) => slotOf.get(a) as number);
    let op: PlanOp;
    if (node.kind === 'op') {
      op = { op: node.op, args, ...node.params } as PlanOp;
    } else {
      op = frozenOp(node.fit, args[0] as number, params(node));
      fittedOps.set(id, plan.ops.length);
    }
    if (op.op === 'one_hot') categories.set(id, op.categories);
    slotOf.set(id, next);
    next += opWidth(op);
    plan.ops.push(op);
  }
  if (!roots) {
    for (const out of outputs) {
      const slot = slotOf.get(out.node) as number;
      if (out.multi) {
        const cats = categories.get(out.node) ?? [];
        cats.forEach((c, k) => {
          plan.outputs.push(slot + k);
          plan.output_names?.push(`${out.name}__${c}`);
        });
        plan.outputs.push(slot + cats.length);
        plan.output_names?.push(`${out.name}__other`);
      } else {
        plan.outputs.push(slot);
        plan.output_names?.push(out.name);
      }
    }
  }
  return { plan, fittedOps, slotOf };
}
