/**
 * How `fresco models diff` reads on a terminal. The default view is the summary (metrics with
 * deltas, then only what changed), every value cut to a few dozen characters so that a line fits
 * a screen: a version records whole YAML files, spec texts and dataset manifests, which side by
 * side made lines thousands of characters long. `--full` adds every differing value, uncut.
 */
import type { Change, VersionDiff } from '../registry/index.js';
import { table } from './output.js';

const KEY_WIDTH = 64;
const VALUE_WIDTH = 56;

/** Cuts the middle out of long text: the start names the thing, the end tells versions apart. */
function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  const head = Math.floor((width - 1) / 3);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/** One value on one short line. */
function short(value: unknown, width = VALUE_WIDTH): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return String(Number(value.toPrecision(6)));
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const hash = /^(sha256:)?([0-9a-f]{64})$/.exec(text);
  if (hash) return `${hash[1] ?? ''}${hash[2]!.slice(0, 12)}…`;
  return cut(text.replace(/\s*\n\s*/g, ' ⏎ '), width);
}

const signed = (d: number) => `${d >= 0 ? '+' : ''}${Number(d.toPrecision(4))}`;

function changeLines(changes: Change[]): string[] {
  const keys = changes.map((c) => cut(c.key, KEY_WIDTH));
  const width = Math.max(0, ...keys.map((k) => k.length));
  return changes.map((c, i) => `  ${keys[i]!.padEnd(width)}  ${short(c.a)} -> ${short(c.b)}`);
}

function section(title: string, lines: string[], none: string): string[] {
  return ['', lines.length ? title : `${title}: ${none}`, ...lines];
}

/** The full value, indented under its key (multi-line values keep their lines). */
function fullValue(label: string, value: unknown): string {
  const text = value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
  return `  ${label}: ${text.replace(/\n/g, '\n      ')}`;
}

export function renderDiff(diff: VersionDiff, options: { full: boolean; all: boolean }): string {
  const s = diff.summary;
  const lines = [`${diff.name}@${diff.a} -> ${diff.name}@${diff.b}`];
  if (s.metrics.length) {
    lines.push(
      '',
      table(
        ['metric', `v${diff.a}`, `v${diff.b}`, 'change'],
        s.metrics.map((m) => [m.name, short(m.a), short(m.b), m.delta !== null ? signed(m.delta) : m.a === null ? 'added' : 'removed']),
      ),
    );
  } else {
    lines.push('', 'metrics: none recorded');
  }
  lines.push(...section('parameters (changed)', changeLines(s.parameters), 'unchanged'));
  const f = s.features;
  const featureLines = [
    ...(f.added.length ? [`  added:   ${f.added.join(', ')}`] : []),
    ...(f.removed.length ? [`  removed: ${f.removed.join(', ')}`] : []),
    ...changeLines(f.changed),
  ];
  lines.push(...section('features', featureLines, 'unchanged'));
  lines.push(...section('lineage (changed)', changeLines(s.lineage), 'same inputs'));
  lines.push(...section('package (changed)', changeLines(s.package), 'same'));
  if (!options.full) {
    lines.push('', `values are shortened; \`fresco models diff ${diff.name} ${diff.a} ${diff.b} --full\` prints every recorded value that differs`);
    return lines.join('\n');
  }
  const rows = diff.rows.filter((row) => options.all || !row.same);
  lines.push('', options.all ? 'every recorded value:' : 'every recorded value that differs (--all: the others too):');
  for (const row of rows) {
    lines.push('', `${row.section} ${row.key}${row.same ? ' (same)' : ''}`, fullValue(`v${diff.a}`, row.a), fullValue(`v${diff.b}`, row.b));
  }
  return lines.join('\n');
}
