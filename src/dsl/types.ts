/** The DSL's static types: a value type (or `null` for the null literal) and nullability. */
import type { ValueType } from '../features/schema.js';
import type { SlotType } from '../plan/types.js';

export type DslType = ValueType | 'null';

export interface TypeInfo {
  type: DslType;
  nullable: boolean;
}

/** How a type is written in messages and in `fresco dsl check`: `float`, `int?` (nullable). */
export function showType(t: TypeInfo): string {
  if (t.type === 'null') return 'null';
  return t.nullable ? `${t.type}?` : t.type;
}

export function slotTypeOf(type: DslType): SlotType {
  return type === 'string' ? 'str' : 'num';
}

export const isNumeric = (t: DslType): boolean => t === 'int' || t === 'float';

/** An article for messages: "a string", "an int". */
export function article(type: DslType): string {
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * The common type of two branches (if, coalesce, fill_null): the same type, int and float widen
 * to float, and the null literal takes the other side's type. undefined when they do not mix.
 */
export function unify(a: DslType, b: DslType): DslType | undefined {
  if (a === 'null') return b;
  if (b === 'null') return a;
  if (a === b) return a;
  if (isNumeric(a) && isNumeric(b)) return 'float';
  return undefined;
}
