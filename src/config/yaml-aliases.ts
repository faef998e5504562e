/**
 * The guard against YAML alias bombs ("billion laughs": anchors whose aliases nest, so that a few
 * lines stand for billions of values). It measures, before anything converts the document, how
 * many values the aliases add, and blames the alias at which the file grows past the limit.
 *
 * Why not only the yaml package's `maxAliasCount`: its measure (uses of an anchor times its
 * nested aliases) rejects ordinary files at its default of 100 (one `&defaults` merged into 150
 * tables), it cannot say which alias went too far, and it does not bound the package's own
 * alias resolution, which is quadratic in the number of aliases (20,000 aliases take seconds).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document } from 'yaml';

/** Aliases a file may hold: the yaml package resolves each one by a scan of the earlier ones. */
export const MAX_ALIASES = 5_000;
/** Values the aliases of a file may add, all together, once expanded. */
export const MAX_ALIAS_EXPANSION = 100_000;

export interface AliasProblem {
  /** Offset of the offending alias (its `*`) in the text. */
  offset: number;
  message: string;
}

const count = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US') : 'more than 10^308');

/**
 * The first alias that breaks a limit, refers to no anchor before it, or sits inside the value
 * it refers to (the yaml package would build a circular value); undefined when all are fine.
 * One iterative walk in document order, so a deep or huge document costs linear time and no
 * stack; each node's expanded size is computed once (post-order), so nested aliases are
 * measured without expanding them.
 */
export function checkAliases(doc: Document): AliasProblem | undefined {
  const size = new Map<unknown, number>();
  // The latest definition of each anchor so far: an alias refers to the last one before it.
  const anchors = new Map<string, unknown>();
  let aliases = 0;
  let added = 0;
  const stack: { node: unknown; exit: boolean }[] = [{ node: doc.contents, exit: false }];
  while (stack.length) {
    const { node, exit } = stack.pop() as { node: unknown; exit: boolean };
    if (node === null || node === undefined) continue;
    if (isAlias(node)) {
      aliases++;
      const offset = node.range?.[0] ?? 0;
      if (aliases > MAX_ALIASES) return { offset, message: `more than ${count(MAX_ALIASES)} YAML aliases in one file` };
      const target = anchors.get(node.source);
      if (target === undefined) return { offset, message: `alias *${node.source} refers to no anchor before it; write &${node.source} on an earlier value` };
      // The anchored value is still open: the alias is inside it, a circle no config can mean.
      const expanded = size.get(target);
      if (expanded === undefined) return { offset, message: `alias *${node.source} is inside the value it refers to (a circular reference)` };
      added += expanded - 1;
      if (added > MAX_ALIAS_EXPANSION) {
        return {
          offset,
          message: `alias *${node.source} stands for ${count(expanded)} values, and the file's aliases expand to more than ${count(MAX_ALIAS_EXPANSION)} values in all (an alias bomb, "billion laughs"?); write the values out or use fewer nested aliases`,
        };
      }
      size.set(node, expanded);
      continue;
    }
    const children: unknown[] = isMap(node) || isSeq(node) ? node.items : isPair(node) ? [node.key, node.value] : [];
    if (exit) {
      let total = isPair(node) ? 0 : 1;
      for (const child of children) total += size.get(child) ?? (child === null || child === undefined ? 0 : 1);
      size.set(node, total);
      continue;
    }
    const anchor = isScalar(node) || isMap(node) || isSeq(node) ? node.anchor : undefined;
    if (anchor) anchors.set(anchor, node);
    if (!children.length) {
      size.set(node, 1);
      continue;
    }
    stack.push({ node, exit: true });
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], exit: false });
  }
  return undefined;
}
