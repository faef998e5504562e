/**
 * `explain`: the compiled plan as a person reads it. Slots are written `s<N>`; fitted ops show
 * what they learned and which line of the spec they came from; a draft (unfitted) plan shows
 * `?` for parameters still to learn and `<1>..<k>` for categories vocab_one_hot will learn.
 */
import { table } from '../cli/output.js';
import type { Plan, PlanOp } from '../plan/types.js';
import { opWidth } from '../plan/validate.js';
import type { FitSite } from './compile.js';
import type { FittedParam } from './frozen.js';

const num = (v: number | null): string => (v === null ? 'null' : Number.isNaN(v) ? '?' : String(Number(v.toPrecision(8))));

function showList(values: (string | number)[], max = 8): string {
  const shown = values.slice(0, max).map((v) => (typeof v === 'string' ? JSON.stringify(v) : num(v)));
  return `[${shown.join(', ')}${values.length > max ? `, ... ${values.length - max} more` : ''}]`;
}

export function showOp(op: PlanOp): string {
  const args = op.args.map((a) => `s${a}`);
  const params = Object.entries(op)
    .filter(([k]) => k !== 'op' && k !== 'args')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? showList(v as (string | number)[]) : typeof v === 'string' ? JSON.stringify(v) : num(v as number | null)}`);
  return `${op.op}(${[...args, ...params].join(', ')})`;
}

export interface ExplainInput {
  plan: Plan;
  /** Set for a frozen plan. */
  hash?: string;
  fitted?: FittedParam[];
  /** Set for a draft: the fitted functions still to fit. */
  pending?: FitSite[];
}

export function explainPlan({ plan, hash, fitted = [], pending = [] }: ExplainInput): string {
  const lines: string[] = [];
  const header = `${plan.inputs.length} input(s), ${plan.ops.length} op(s), ${plan.outputs.length} output column(s)`;
  if (hash) lines.push(`frozen plan ${hash}`, header);
  else if (pending.length) lines.push(`draft plan (not runnable until fitted): ${header}`, `${pending.length} fitted function(s) learn their parameters from a training set: ? and <k> below are placeholders`);
  else lines.push(`plan: ${header}`);
  lines.push('', 'inputs:');
  lines.push(table(['slot', 'name', 'type'], plan.inputs.map((input, i) => [`s${i}`, input.name, input.type])));
  lines.push('', 'ops:');
  const byOp = new Map(fitted.map((f) => [f.op, f]));
  let slot = plan.inputs.length;
  const opRows = plan.ops.map((op, i) => {
    const width = opWidth(op);
    const label = width === 1 ? `s${slot}` : `s${slot}..s${slot + width - 1}`;
    slot += width;
    const f = byOp.get(i);
    return [label, showOp(op), f ? `fitted: ${f.function} on ${f.rows} rows (line ${f.line}, output ${f.output})` : ''];
  });
  lines.push(table(['slot', 'op', 'note'], opRows));
  lines.push('', 'outputs (matrix columns):');
  const names = plan.output_names ?? plan.outputs.map((_, j) => `c${j}`);
  lines.push(table(['column', 'name', 'slot'], plan.outputs.map((s, j) => [j, names[j] as string, `s${s}`])));
  if (pending.length) {
    lines.push('', 'to fit:');
    lines.push(table(['line', 'output', 'function'], pending.map((p) => [`${p.line}:${p.column}`, p.output, p.expression])));
  }
  return lines.join('\n');
}
