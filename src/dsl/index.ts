/**
 * The feature DSL (docs/dsl.md): typed expressions over features and request fields, compiled to
 * native plans, fitted on a training set, frozen with a content hash.
 */
export type { Expr as AstExpr, OutputLine, SpecAst } from './ast.js';
export { tokenize, type Token as DslToken } from './lexer.js';
export { parseSpec, MAX_DEPTH } from './parser.js';
export { type CheckedOutput } from './check.js';
export { FUNCTIONS } from './functions.js';
export { CompiledSpec, compileSpec, compileSpecFile, type FitSite } from './compile.js';
export { fitSpec, learnNumeric, learnVocabulary, type FitOptions } from './fit.js';
export { canonicalJson, freezePlan, FROZEN_FORMAT, type FittedParam, type FrozenPlan, loadFrozenPlan, planHash, serializeFrozenPlan } from './frozen.js';
export { datasetColumnName, planColumns, readPlanColumns } from './dataset.js';
export { explainPlan, showOp } from './explain.js';
export { type DslType, showType, type TypeInfo } from './types.js';
export { renderSnippet, type Source as DslSource, type Span as DslSpan } from './source.js';
export { BoolExpr, col, boolCol, compileFeatures, lit, NumExpr, OneHotExpr, renderSpec, StrExpr, strCol, TsExpr, tsCol, when, type OutputExpr } from './builder.js';
export { parseFeatureSchema, readFeatureSchema } from './schema-file.js';
