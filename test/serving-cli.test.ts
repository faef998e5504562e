import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { eventually, type Fixture, makeServingFixture, policyOf, SCHED_OTHER, threadsOf } from './serving-helpers.js';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await makeServingFixture(5);
  fixture.registry.close();
});
afterAll(() => {
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

function capture(): Io & { outText: string[]; errText: string[] } {
  const outText: string[] = [];
  const errText: string[] = [];
  return { outText, errText, out: (t) => void outText.push(t), err: (t) => void errText.push(t) };
}

describe('fresco serve / fresco predict', () => {
  it('serves, answers `fresco predict`, and drains on SIGTERM', async () => {
    const serveIo = capture();
    const registry = `${fixture.dir}/registry`;
    process.env.FRESCO_LOG_LEVEL = 'silent';
    // In this test's own process: leave its threads' scheduling alone (the executable's test checks the default).
    const serving = runCli(['node', 'fresco', 'serve', '--port', '0', '--registry', registry, '--models', 'flights-delay,mlp-50@production', '--no-prioritize-serving'], serveIo);
    await eventually(() => serveIo.errText.some((l) => l.includes('listening on')));
    const port = /:(\d+) /.exec(serveIo.errText.find((l) => l.includes('listening on'))!)![1];
    if (process.platform === 'linux') for (const t of threadsOf()) expect(policyOf(t), `thread ${t}`).toBe(SCHED_OTHER);

    const io = capture();
    const code = await runCli(['node', 'fresco', 'predict', 'flights-delay', '--url', `ws://127.0.0.1:${port}`, '--field', `date=${Date.UTC(2001, 4, 1, 19)}`, '--field', 'distance=337', '--field', 'origin=SFO', '--field', 'destination=LAX', '--json'], io);
    expect(code).toBe(0);
    const answer = JSON.parse(io.outText.join(''));
    expect(answer).toMatchObject({ model: 'flights-delay', version: 1, outputs: { delay_probability: { shape: [1, 1] } } });
    expect(answer.outputs.delay_probability.data[0]).toBeGreaterThan(0);
    expect(answer.outputs.delay_probability.data[0]).toBeLessThan(1);

    const tensorIo = capture();
    expect(await runCli(['node', 'fresco', 'predict', 'mlp-50@production', '--url', `ws://127.0.0.1:${port}`, '--tensor', `x=${Array(50).fill(0.5).join(',')}`], tensorIo)).toBe(0);
    expect(tensorIo.outText.join('')).toMatch(/^mlp-50@1\n {2}y \[1, 1\] = \[-?\d/);

    const badIo = capture();
    expect(await runCli(['node', 'fresco', 'predict', 'flights-delay', '--url', `ws://127.0.0.1:${port}`, '--field', 'distance=1'], badIo)).toBe(1);
    expect(badIo.errText.join('')).toMatch(/error\[FRESCO_ERR_INPUT_INVALID\]: row 0: missing request field "date"/);

    process.emit('SIGTERM');
    expect(await serving).toBe(0);
    expect(serveIo.errText.join('\n')).toMatch(/SIGTERM: draining/);
    const after = capture();
    expect(await runCli(['node', 'fresco', 'predict', 'mlp-50', '--url', `ws://127.0.0.1:${port}`, '--tensor', 'x=1'], after)).toBe(1);
    expect(after.errText.join('')).toMatch(/FRESCO_ERR_UNAVAILABLE/);
  });
});
