// docker/: what can be checked without a Docker engine (these machines have none, so no image is
// built here): the entrypoint's dispatch, run for real with a stand-in fresco executable, and
// the structure of the Dockerfile, the compose file and the Kubernetes manifests.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { packageRoot } from '../src/package-root.js';

const DOCKER = join(packageRoot(), 'docker');
const ENTRYPOINT = join(DOCKER, 'entrypoint.sh');

/** Runs the entrypoint with a fake `fresco` that prints its argv, one per line. */
function entry(args: string[], env: Record<string, string> = {}): { code: number | null; argv: string[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-entry-'));
  const fake = join(dir, 'fresco');
  writeFileSync(fake, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
  chmodSync(fake, 0o755);
  const r = spawnSync('sh', [ENTRYPOINT, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FRESCO_BIN: fake, ...env }, encoding: 'utf8' });
  return { code: r.status, argv: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
}

describe('docker/entrypoint.sh', () => {
  it('serves by default and passes fresco commands through', () => {
    expect(entry([]).argv).toEqual(['serve']);
    expect(entry(['serve', '--port', '8500']).argv).toEqual(['serve', '--port', '8500']);
    expect(entry(['fresco', 'models', 'list']).argv).toEqual(['models', 'list']);
    expect(entry(['batch', 'score', 'm@production', '--input', '/data/in/*.parquet', '--output', '/data/out/']).argv).toEqual([
      'batch', 'score', 'm@production', '--input', '/data/in/*.parquet', '--output', '/data/out/',
    ]);
    const shell = spawnSync('sh', [ENTRYPOINT, 'sh', '-c', 'echo direct'], { encoding: 'utf8' });
    expect(shell.stdout.trim()).toBe('direct');
  });

  it('adds --shard from an Indexed Job completion index, unless --shard is given', () => {
    const env = { JOB_COMPLETION_INDEX: '2', FRESCO_SHARD_COUNT: '4' };
    expect(entry(['batch', 'score', 'm', '--output', '/o/'], env).argv).toEqual(['batch', 'score', 'm', '--output', '/o/', '--shard', '2/4']);
    expect(entry(['batch', 'score', 'm', '--shard', '1/3'], env).argv).toEqual(['batch', 'score', 'm', '--shard', '1/3']);
    expect(entry(['serve'], env).argv).toEqual(['serve']);
    expect(entry(['batch', 'score', 'm'], { JOB_COMPLETION_INDEX: '2' }).argv).toEqual(['batch', 'score', 'm']);
    const bad = entry(['batch', 'score', 'm'], { JOB_COMPLETION_INDEX: '4', FRESCO_SHARD_COUNT: '4' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not below FRESCO_SHARD_COUNT/);
  });
});

describe('docker/Dockerfile and compose.yaml', () => {
  it('builds one image whose entrypoint is the dispatch script, as a non-root user', () => {
    const text = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const from = lines.filter((l) => l.startsWith('FROM '));
    expect(from.length).toBe(2);
    expect(text).toMatch(/COPY docker\/entrypoint\.sh \/usr\/local\/bin\/fresco-entrypoint/);
    expect(lines).toContain('ENTRYPOINT ["/usr/local/bin/fresco-entrypoint"]');
    expect(lines).toContain('CMD ["serve"]');
    expect(lines).toContain('USER node');
    // Every file the build copies from the context exists.
    for (const l of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from'))) {
      const sources = l.replace(/^COPY\s+/, '').split(/\s+/).slice(0, -1);
      for (const s of sources) expect(existsSync(join(packageRoot(), s)), `${s} (Dockerfile: ${l})`).toBe(true);
    }
  });

  it('composes the server with Redis, waiting for Redis to be healthy', () => {
    const compose = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8')) as { services: Record<string, Record<string, unknown>> };
    expect(Object.keys(compose.services).sort()).toEqual(['fresco', 'redis']);
    const fresco = compose.services.fresco!;
    expect(fresco.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect((fresco.command as string[])[0]).toBe('serve');
    expect(fresco.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(compose.services.redis!.healthcheck).toBeDefined();
    expect(JSON.stringify(fresco.healthcheck)).toContain('/v2/health/ready');
  });
});

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: Record<string, any> };

function manifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(DOCKER, 'k8s', file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Manifest;
  });
}

/** A small structural check of a pod template: what the API server would reject, plus ours. */
function checkPod(template: { metadata: { labels: Record<string, string> }; spec: Record<string, any> }): any {
  const [container] = template.spec.containers as any[];
  expect(template.spec.containers).toHaveLength(1);
  expect(container.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  expect(container.image).toBe('fresco:0.1.0');
  const volumes = new Set((template.spec.volumes ?? []).map((v: { name: string }) => v.name));
  for (const m of container.volumeMounts ?? []) expect(volumes.has(m.name), `volume ${m.name}`).toBe(true);
  expect(template.spec.securityContext.runAsNonRoot).toBe(true);
  return container;
}

describe('docker/k8s', () => {
  it('serves from a Deployment behind a Service, with a readiness probe and a zero-downtime rolling update', () => {
    const docs = manifests('serving.yaml');
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const service = docs.find((d) => d.kind === 'Service')!;
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(service.apiVersion).toBe('v1');
    const selector = deployment.spec.selector.matchLabels as Record<string, string>;
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(selector)) expect(labels[k]).toBe(v);
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) expect(labels[k]).toBe(v);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const container = checkPod(deployment.spec.template);
    expect(container.args[0]).toBe('serve');
    const portNames = new Set(container.ports.map((p: { name: string }) => p.name));
    expect(container.readinessProbe.httpGet.path).toBe('/v2/health/ready');
    expect(portNames.has(container.readinessProbe.httpGet.port)).toBe(true);
    expect(portNames.has(service.spec.ports[0].targetPort)).toBe(true);
  });

  it('scores in batch as an Indexed Job with one shard per completion index', () => {
    const [job] = manifests('batch-job.yaml');
    expect(job!.apiVersion).toBe('batch/v1');
    expect(job!.kind).toBe('Job');
    expect(job!.spec.completionMode).toBe('Indexed');
    expect(job!.spec.template.spec.restartPolicy).toBe('Never');
    const container = checkPod(job!.spec.template);
    expect(container.args.slice(0, 2)).toEqual(['batch', 'score']);
    // The output is a folder (shards write parts), and the shard count matches the completions.
    expect(container.args[container.args.indexOf('--output') + 1]).toMatch(/\/$/);
    expect(container.args).not.toContain('--shard');
    const count = container.env.find((e: { name: string }) => e.name === 'FRESCO_SHARD_COUNT').value;
    expect(Number(count)).toBe(job!.spec.completions);
    // What the entrypoint turns pod 3's arguments into.
    const argv = entry(container.args, { JOB_COMPLETION_INDEX: '3', FRESCO_SHARD_COUNT: count }).argv;
    expect(argv.slice(-2)).toEqual(['--shard', `3/${count}`]);
  });
});
