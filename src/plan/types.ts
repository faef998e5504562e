/**
 * The feature plan: a small serializable program over column slots (docs/plan-format.md).
 * The DSL compiles to it, model packages carry it, the native core and the TypeScript
 * reference evaluator both execute it.
 */

export const PLAN_FORMAT = 'fresco.plan';
export const PLAN_VERSION = 1;

export type SlotType = 'num' | 'str';

export interface PlanInput {
  /** The column's name, as the feature store or the request names it. */
  name: string;
  type: SlotType;
}

type Unary<Op extends string> = { op: Op; args: [number] };
type Binary<Op extends string> = { op: Op; args: [number, number] };

export type PlanOp =
  | { op: 'const'; args: []; value: number | null }
  | Binary<'add' | 'sub' | 'mul' | 'div'>
  | Unary<'neg' | 'abs'>
  | Binary<'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'>
  | Binary<'and' | 'or'>
  | Unary<'not'>
  | { op: 'if'; args: [number, number, number] }
  | Unary<'is_null'>
  | { op: 'fill_null'; args: [number]; value: number }
  | Binary<'coalesce'>
  | Unary<'log1p'>
  | { op: 'clip'; args: [number]; lo: number | null; hi: number | null }
  | { op: 'standardize'; args: [number]; mean: number; std: number }
  | { op: 'min_max'; args: [number]; min: number; max: number }
  | { op: 'bucketize'; args: [number]; boundaries: number[] }
  | Unary<'hour' | 'day_of_week'>
  | Binary<'days_between'>
  | { op: 'one_hot'; args: [number]; categories: string[] }
  | { op: 'hash_bucket'; args: [number]; n: number }
  | Unary<'lower'>
  | { op: 'str_eq'; args: [number]; value: string };

export type OpName = PlanOp['op'];

export interface Plan {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  inputs: PlanInput[];
  ops: PlanOp[];
  /** Numeric slots, in the order of the matrix's columns. */
  outputs: number[];
  /** The matrix's column names, one per output (optional; the DSL always writes them). */
  output_names?: string[];
}

/** Input columns, one per plan input (docs/plan-format.md, "Input columns at run time"). */
export type Column =
  | { kind: 'f64'; values: Float64Array; validity?: Uint8Array }
  | { kind: 'f32'; values: Float32Array; validity?: Uint8Array }
  | { kind: 'i32'; values: Int32Array; validity?: Uint8Array }
  | { kind: 'i64'; values: BigInt64Array; validity?: Uint8Array }
  | { kind: 'bool'; values: Uint8Array; validity?: Uint8Array }
  | { kind: 'dict'; codes: Int32Array; dictionary: string[] }
  | { kind: 'utf8'; offsets: Int32Array; data: Uint8Array; validity?: Uint8Array };

export type ColumnKind = Column['kind'];
