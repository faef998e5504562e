/**
 * Fitting: each fitted function learns its parameters from a training set, in spec order, over
 * the value of its argument (the partial plan up to the argument runs natively; statistics are
 * computed here, ignoring nulls), and is frozen into a plain plan op.
 *
 * The argument column comes back from the executor as f32 (the matrix type), so learned
 * parameters are statistics of f32-rounded values: relative error about 6e-8, far below what a
 * scaler or a fill value can notice.
 */
import { type ColumnTable } from '../offline/read-columns.js';
import { type Engine, planRunner } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import { validatePlan } from '../plan/validate.js';
import { planColumns } from './dataset.js';
import type { CompiledSpec } from './compile.js';
import { freezePlan, type FittedParam, type FrozenPlan } from './frozen.js';
import { emit, type FittedParams, type GraphNode } from './graph.js';
import { dslError, lineIndex } from './source.js';

type FitNode = Extract<GraphNode, { kind: 'fit' }>;

export interface FitOptions {
  /** Which executor computes the argument columns: native (default) or the reference evaluator. */
  engine?: Engine;
}

/** Mean and population standard deviation (as scikit-learn's StandardScaler) of the finite values. */
function finiteValues(values: Float32Array): Float64Array {
  let n = 0;
  for (const v of values) if (Number.isFinite(v)) n++;
  const out = new Float64Array(n);
  let i = 0;
  for (const v of values) if (Number.isFinite(v)) out[i++] = v;
  return out;
}

export function learnNumeric(fit: Exclude<FitNode['fit'], 'vocab_one_hot'>, values: Float32Array): FittedParams | undefined {
  const xs = finiteValues(values);
  if (xs.length === 0) return undefined;
  switch (fit) {
    case 'standardize':
    case 'fill_mean': {
      let sum = 0;
      for (const x of xs) sum += x;
      const mean = sum / xs.length;
      if (fit === 'fill_mean') return { fit, value: mean };
      let sq = 0;
      for (const x of xs) sq += (x - mean) * (x - mean);
      return { fit, mean, std: Math.sqrt(sq / xs.length) };
    }
    case 'min_max': {
      let min = Infinity;
      let max = -Infinity;
      for (const x of xs) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
      return { fit, min, max };
    }
    case 'fill_median': {
      xs.sort();
      const mid = xs.length >> 1;
      return { fit, value: xs.length % 2 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2 };
    }
  }
}

/**
 * The `top` most frequent non-null strings, most frequent first, ties by code-unit order so the
 * result never depends on the data's row order. "other" is left out: it names the column that
 * every unlisted value goes to.
 */
export function learnVocabulary(values: Iterable<string | null>, top: number): string[] | undefined {
  const counts = new Map<string, number>();
  let any = false;
  for (const v of values) {
    if (v === null) continue;
    any = true;
    if (v !== 'other') counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  if (!any) return undefined;
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, top)
    .map(([s]) => s);
}

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

/**
 * The strings of a str node. Only inputs and `lower` produce strings, so this walks the lower
 * chain back to the input column and applies the same ASCII folding the kernels do.
 */
function stringValues(spec: CompiledSpec, nodeId: number, table: ColumnTable): (string | null)[] {
  const { graph } = spec.graphOutputs;
  let lowers = 0;
  let node = graph.nodes[nodeId] as GraphNode;
  while (node.kind === 'op' && node.op === 'lower') {
    lowers++;
    node = graph.nodes[node.args[0] as number] as GraphNode;
  }
  if (node.kind !== 'input') throw new Error(`unreachable: string node ${nodeId} is not an input or lower`);
  const plan: Plan = { format: 'fresco.plan', version: 1, inputs: [node.input], ops: [], outputs: [] };
  const [column] = planColumns(plan, table, 'FRESCO_ERR_DSL_FIT');
  const fold = (s: string | null) => (s === null || lowers === 0 ? s : asciiLower(s));
  if (column?.kind === 'dict') {
    const dictionary = column.dictionary.map(fold);
    return Array.from(column.codes, (code) => (code < 0 ? null : (dictionary[code] as string)));
  }
  if (column?.kind === 'utf8') {
    const decoder = new TextDecoder();
    const out: (string | null)[] = [];
    for (let i = 0; i < table.rows; i++) {
      const valid = column.validity === undefined || ((column.validity[i >> 3] as number) >> (i & 7)) & 1;
      out.push(valid ? fold(decoder.decode(column.data.subarray(column.offsets[i], column.offsets[i + 1]))) : null);
    }
    return out;
  }
  throw new Error('unreachable: planColumns checked the kind');
}

function describeParams(p: FittedParams): Record<string, number | string[]> {
  const { fit: _fit, ...rest } = p;
  return rest as Record<string, number | string[]>;
}

/** Fits every fitted function of `spec` on `table` and returns the frozen plan. */
export function fitSpec(spec: CompiledSpec, table: ColumnTable, options: FitOptions = {}): FrozenPlan {
  const engine = options.engine ?? 'native';
  const { graph, outputs } = spec.graphOutputs;
  const learned = new Map<number, FittedParams>();
  const known = (n: FitNode) => {
    const p = learned.get(n.id);
    if (!p) throw new Error(`unreachable: fitted node ${n.id} used before it was fitted`);
    return p;
  };
  // Creation order is dependency order: a fitted node's argument only uses earlier fitted nodes.
  for (const node of graph.fitNodes()) {
    const arg = node.args[0] as number;
    let params: FittedParams | undefined;
    if (node.fit === 'vocab_one_hot') {
      const categories = learnVocabulary(stringValues(spec, arg, table), node.top ?? 1);
      params = categories && { fit: 'vocab_one_hot', categories };
    } else {
      const partial = emit(graph, outputs, known, [arg]);
      partial.plan.outputs = [partial.slotOf.get(arg) as number];
      delete partial.plan.output_names;
      const columns = planColumns(partial.plan, table, 'FRESCO_ERR_DSL_FIT');
      params = learnNumeric(node.fit, planRunner(partial.plan, engine)(columns, table.rows));
    }
    if (!params) {
      throw dslError('FRESCO_ERR_DSL_FIT', spec.source, node.span, `${node.fit}(...) in output "${node.output}" cannot be fitted: its argument has no non-null values in the ${table.rows} training rows`);
    }
    learned.set(node.id, params);
  }
  const { plan, fittedOps } = emit(graph, outputs, known);
  const names = plan.output_names ?? [];
  const seen = new Set<string>();
  const dup = names.find((n) => seen.size === seen.add(n).size);
  if (dup !== undefined) {
    const culprit = graph.fitNodes().find((n) => n.fit === 'vocab_one_hot' && dup.startsWith(`${n.output}__`));
    const span = culprit?.span ?? { start: 0, end: 0 };
    throw dslError('FRESCO_ERR_DSL_FIT', spec.source, span, `duplicate output name "${dup}": a learned category collides with another column`, 'rename one of the outputs');
  }
  validatePlan(plan);
  const at = lineIndex(spec.source.text);
  const fitted: FittedParam[] = graph.fitNodes().map((n) => {
    const { line, column } = at(n.span.start);
    return {
      output: n.output,
      function: n.fit,
      expression: spec.source.text.slice(n.span.start, n.span.end),
      line,
      column,
      op: fittedOps.get(n.id) as number,
      params: describeParams(learned.get(n.id) as FittedParams),
      rows: table.rows,
    };
  });
  return freezePlan(plan, fitted, spec.source.file);
}
