// Help tells the truth: every `--option` a command's help mentions is one that command (or the
// program) accepts. `features get --help` once named an `--entity` option that did not exist.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { cli } from './helpers/cli.js';

function leaves(command: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return command.commands.flatMap((sub) => (sub.commands.length ? leaves(sub, [...path, sub.name()]) : [{ path: [...path, sub.name()], command: sub }]));
}

describe('fresco <command> --help', () => {
  const program = buildProgram({ out: () => {}, err: () => {} });
  const globals = program.options.map((o) => o.long);

  it('mentions only options the command accepts', async () => {
    const wrong: string[] = [];
    for (const { path, command } of leaves(program)) {
      const help = await cli(...path, '--help');
      expect(help.code, path.join(' ')).toBe(0);
      const accepted = new Set([...command.options.map((o) => o.long), ...globals, '--help']);
      for (const [option] of help.out.matchAll(/--[a-z][a-z0-9-]*/g)) if (!accepted.has(option)) wrong.push(`${path.join(' ')}: ${option}`);
    }
    expect(wrong).toEqual([]);
  });

  it('features get explains how --key groups entities', async () => {
    const help = await cli('features', 'get', '--help');
    expect(help.out).not.toMatch(/--entity/);
    expect(help.out).toMatch(/a name given again starts the next entity/);
    expect(help.out).toMatch(/--key driver_id=1001 --key driver_id=1002 +# two entities/);
  });
});
