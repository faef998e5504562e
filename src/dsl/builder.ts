/**
 * The typed TypeScript builder: the DSL for people who prefer code to strings.
 *
 *   compileFeatures({ log_delay: col('airport_delay.delay_avg_24h').fillNull(0).log1p() }, schema)
 *
 * Each builder value renders to DSL text and compiles through the same parser and type checker,
 * so a builder spec and the equivalent text spec produce the identical plan by construction.
 * TypeScript's types keep the obvious mistakes out (no log1p on a string column); the schema
 * check catches the rest, with the caret pointing into the rendered spec (file `<builder>`).
 */
import { FrescoError } from '../errors/index.js';
import type { FeatureSchema } from '../features/schema.js';
import { type CompiledSpec, compileSpec } from './compile.js';

function literal(v: number): string {
  if (!Number.isFinite(v)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `the DSL has no literal for ${v}; use null for a missing value`);
  return String(v);
}

function ref(name: string): string {
  const bare = name.startsWith('@') ? name.slice(1) : name;
  if (!/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/.test(bare)) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `"${name}" is not a reference: expected "table.feature" or "request.field"`);
  }
  return `@${bare}`;
}

type NumLike = NumExpr | number | null;
type BoolLike = BoolExpr | boolean | null;

const numText = (v: NumLike): string => (v === null ? 'null' : typeof v === 'number' ? literal(v) : v.text);
const boolText = (v: BoolLike): string => (v === null ? 'null' : typeof v === 'boolean' ? String(v) : v.text);

/** Any builder value: its DSL text. */
export abstract class Expr {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  /** 1 where the value is null, else 0. */
  isNull(): BoolExpr {
    return new BoolExpr(`is_null(${this.text})`);
  }
}

export class NumExpr extends Expr {
  add(x: NumLike): NumExpr {
    return new NumExpr(`(${this.text} + ${numText(x)})`);
  }
  sub(x: NumLike): NumExpr {
    return new NumExpr(`(${this.text} - ${numText(x)})`);
  }
  mul(x: NumLike): NumExpr {
    return new NumExpr(`(${this.text} * ${numText(x)})`);
  }
  /** Division; null where the divisor is 0. */
  div(x: NumLike): NumExpr {
    return new NumExpr(`(${this.text} / ${numText(x)})`);
  }
  neg(): NumExpr {
    return new NumExpr(`(-${this.text})`);
  }
  abs(): NumExpr {
    return new NumExpr(`abs(${this.text})`);
  }
  log1p(): NumExpr {
    return new NumExpr(`log1p(${this.text})`);
  }
  /** Bounds to [lo, hi]; null for no bound. */
  clip(lo: number | null, hi: number | null): NumExpr {
    return new NumExpr(`clip(${this.text}, ${numText(lo)}, ${numText(hi)})`);
  }
  bucketize(boundaries: number[]): NumExpr {
    return new NumExpr(`bucketize(${this.text}, [${boundaries.map(literal).join(', ')}])`);
  }
  fillNull(value: NumLike): NumExpr {
    return new NumExpr(`fill_null(${this.text}, ${numText(value)})`);
  }
  coalesce(...others: NumLike[]): NumExpr {
    return new NumExpr(`coalesce(${[this.text, ...others.map(numText)].join(', ')})`);
  }
  lt(x: NumLike): BoolExpr {
    return new BoolExpr(`(${this.text} < ${numText(x)})`);
  }
  le(x: NumLike): BoolExpr {
    return new BoolExpr(`(${this.text} <= ${numText(x)})`);
  }
  gt(x: NumLike): BoolExpr {
    return new BoolExpr(`(${this.text} > ${numText(x)})`);
  }
  ge(x: NumLike): BoolExpr {
    return new BoolExpr(`(${this.text} >= ${numText(x)})`);
  }
  eq(x: NumLike): BoolExpr {
    return new BoolExpr(`(${this.text} == ${numText(x)})`);
  }
  ne(x: NumLike): BoolExpr {
    return new BoolExpr(`(${this.text} != ${numText(x)})`);
  }
  /** Fitted: (x - mean) / std, learned at training. */
  standardize(): NumExpr {
    return new NumExpr(`standardize(${this.text})`);
  }
  /** Fitted: (x - min) / (max - min), learned at training. */
  minMax(): NumExpr {
    return new NumExpr(`min_max(${this.text})`);
  }
  /** Fitted: nulls replaced by the training mean. */
  fillMean(): NumExpr {
    return new NumExpr(`fill_mean(${this.text})`);
  }
  /** Fitted: nulls replaced by the training median. */
  fillMedian(): NumExpr {
    return new NumExpr(`fill_median(${this.text})`);
  }
}

export class BoolExpr extends Expr {
  and(x: BoolLike): BoolExpr {
    return new BoolExpr(`(${this.text} and ${boolText(x)})`);
  }
  or(x: BoolLike): BoolExpr {
    return new BoolExpr(`(${this.text} or ${boolText(x)})`);
  }
  not(): BoolExpr {
    return new BoolExpr(`(not ${this.text})`);
  }
  eq(x: BoolLike): BoolExpr {
    return new BoolExpr(`(${this.text} == ${boolText(x)})`);
  }
  ne(x: BoolLike): BoolExpr {
    return new BoolExpr(`(${this.text} != ${boolText(x)})`);
  }
  fillNull(value: BoolLike): BoolExpr {
    return new BoolExpr(`fill_null(${this.text}, ${boolText(value)})`);
  }
}

export class TsExpr extends Expr {
  /** Hour of day, 0..23, UTC. */
  hour(): NumExpr {
    return new NumExpr(`hour(${this.text})`);
  }
  /** 0 = Monday .. 6 = Sunday, UTC. */
  dayOfWeek(): NumExpr {
    return new NumExpr(`day_of_week(${this.text})`);
  }
  /** (later - this) in fractional days. */
  daysUntil(later: TsExpr): NumExpr {
    return new NumExpr(`days_between(${this.text}, ${later.text})`);
  }
  lt(x: TsExpr): BoolExpr {
    return new BoolExpr(`(${this.text} < ${x.text})`);
  }
  le(x: TsExpr): BoolExpr {
    return new BoolExpr(`(${this.text} <= ${x.text})`);
  }
  gt(x: TsExpr): BoolExpr {
    return new BoolExpr(`(${this.text} > ${x.text})`);
  }
  ge(x: TsExpr): BoolExpr {
    return new BoolExpr(`(${this.text} >= ${x.text})`);
  }
  fillNull(value: TsExpr): TsExpr {
    return new TsExpr(`fill_null(${this.text}, ${value.text})`);
  }
}

/** Several columns: `<name>__<category>` ... `<name>__other`. Only a whole output. */
export class OneHotExpr extends Expr {}

export class StrExpr extends Expr {
  /** ASCII-only lower case. */
  lower(): StrExpr {
    return new StrExpr(`lower(${this.text})`);
  }
  eq(value: string): BoolExpr {
    return new BoolExpr(`(${this.text} == ${JSON.stringify(value)})`);
  }
  ne(value: string): BoolExpr {
    return new BoolExpr(`(${this.text} != ${JSON.stringify(value)})`);
  }
  hashBucket(n: number): NumExpr {
    return new NumExpr(`hash_bucket(${this.text}, ${literal(n)})`);
  }
  oneHot(categories: string[]): OneHotExpr {
    return new OneHotExpr(`one_hot(${this.text}, [${categories.map((c) => JSON.stringify(c)).join(', ')}])`);
  }
  /** Fitted: one column for each of the `top` most frequent training values, plus other. */
  vocabOneHot(options: { top: number }): OneHotExpr {
    return new OneHotExpr(`vocab_one_hot(${this.text}, top=${literal(options.top)})`);
  }
}

/** A numeric (int or float) feature or request field: `col('airport_delay.delay_avg_24h')`. */
export const col = (name: string): NumExpr => new NumExpr(ref(name));
export const strCol = (name: string): StrExpr => new StrExpr(ref(name));
export const tsCol = (name: string): TsExpr => new TsExpr(ref(name));
export const boolCol = (name: string): BoolExpr => new BoolExpr(ref(name));
export const lit = (value: number | null): NumExpr => new NumExpr(numText(value));

/** if(condition, then, else); a null condition picks else. */
export function when<T extends NumExpr | BoolExpr | TsExpr>(condition: BoolExpr, then: T, otherwise: T | null): T {
  const ctor = then.constructor as new (text: string) => T;
  return new ctor(`if(${condition.text}, ${then.text}, ${otherwise === null ? 'null' : otherwise.text})`);
}

export type OutputExpr = NumExpr | BoolExpr | TsExpr | OneHotExpr;

/** Renders outputs (in insertion order) as spec text. */
export function renderSpec(outputs: Record<string, OutputExpr>): string {
  return Object.entries(outputs)
    .map(([name, e]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || ['and', 'or', 'not', 'true', 'false', 'null'].includes(name)) {
        throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `output name "${name}" must be an identifier (letters, digits, _)`);
      }
      return `${name} = ${e.text}\n`;
    })
    .join('');
}

/** Compiles builder outputs against a schema: the same CompiledSpec the text DSL gives. */
export function compileFeatures(outputs: Record<string, OutputExpr>, schema: FeatureSchema): CompiledSpec {
  return compileSpec(renderSpec(outputs), schema, { file: '<builder>' });
}
