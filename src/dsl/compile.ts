/**
 * The DSL's front door: parse -> type-check -> a CompiledSpec, which emits the native plan (once
 * fitted, when the spec has fitted functions). Every failure is a FrescoError with a DSL code.
 */
import { readFileSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import type { FeatureSchema } from '../features/schema.js';
import type { Plan } from '../plan/types.js';
import { checkSpec, type CheckedOutput, type CheckedSpec } from './check.js';
import { freezePlan, type FrozenPlan } from './frozen.js';
import { emit, type FittedParams, type GraphNode, type GraphOutput } from './graph.js';
import { parseSpec } from './parser.js';
import { dslError, lineIndex, type Source } from './source.js';

type FitNode = Extract<GraphNode, { kind: 'fit' }>;

/** A fitted function still waiting for its parameters. */
export interface FitSite {
  node: number;
  function: FitNode['fit'];
  output: string;
  expression: string;
  line: number;
  column: number;
}

/** Placeholders for a draft: NaN shows as `?` in explain; categories `<1>..<k>` stand for the learned ones. */
function placeholder(node: FitNode): FittedParams {
  switch (node.fit) {
    case 'standardize':
      return { fit: 'standardize', mean: NaN, std: NaN };
    case 'min_max':
      return { fit: 'min_max', min: NaN, max: NaN };
    case 'fill_mean':
    case 'fill_median':
      return { fit: node.fit, value: NaN };
    case 'vocab_one_hot':
      return { fit: 'vocab_one_hot', categories: Array.from({ length: node.top ?? 1 }, (_, i) => `<${i + 1}>`) };
  }
}

export class CompiledSpec {
  private sites: FitSite[] | undefined;

  constructor(private readonly checked: CheckedSpec) {}

  get source(): Source {
    return this.checked.source;
  }

  /** Each output line with its static type. */
  get outputs(): CheckedOutput[] {
    return this.checked.types;
  }

  /** @internal the graph and its outputs, for fitting. */
  get graphOutputs(): { graph: CheckedSpec['graph']; outputs: GraphOutput[] } {
    return { graph: this.checked.graph, outputs: this.checked.outputs };
  }

  /** The fitted functions that must learn their parameters before the plan can run. */
  get fitSites(): FitSite[] {
    // Computed once: `dsl check` asks per output line, and a spec may have 100,000 of both.
    if (!this.sites) {
      const at = lineIndex(this.source.text);
      this.sites = this.checked.graph.fitNodes().map((n) => {
        const { line, column } = at(n.span.start);
        return { node: n.id, function: n.fit, output: n.output, expression: this.source.text.slice(n.span.start, n.span.end), line, column };
      });
    }
    return this.sites;
  }

  get needsFit(): boolean {
    return this.fitSites.length > 0;
  }

  /**
   * The runnable plan. A spec with fitted functions has none until it is fitted: this throws
   * FRESCO_ERR_DSL_UNFITTED naming the first one.
   */
  plan(): Plan {
    const first = this.checked.graph.fitNodes()[0];
    if (first) {
      throw dslError(
        'FRESCO_ERR_DSL_UNFITTED',
        this.source,
        first.span,
        `${first.fit}(...) in output "${first.output}" has not been fitted: its parameters come from a training set`,
        'fit the spec first (fitSpec(spec, dataset) or `fresco dsl explain --fit <dataset>`), then run the frozen plan',
      );
    }
    return emit(this.checked.graph, this.checked.outputs, () => {
      throw new Error('unreachable: no fitted nodes');
    }).plan;
  }

  /** The plan with placeholders for fitted parameters: for explain only, never for running. */
  draft(): Plan {
    return emit(this.checked.graph, this.checked.outputs, placeholder).plan;
  }

  /** The frozen plan of a spec without fitted functions (fitSpec handles the others). */
  freeze(): FrozenPlan {
    return freezePlan(this.plan(), [], this.source.file);
  }
}

/** Compiles spec text against a schema. `file` names the spec in error messages. */
export function compileSpec(text: string, schema: FeatureSchema, options: { file?: string } = {}): CompiledSpec {
  const source: Source = { file: options.file ?? '<spec>', text };
  return new CompiledSpec(checkSpec(source, parseSpec(source), schema));
}

/** Reads and compiles a spec file. */
export function compileSpecFile(file: string, schema: FeatureSchema): CompiledSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such spec file`, { location: { file } });
  }
  return compileSpec(text, schema, { file });
}
