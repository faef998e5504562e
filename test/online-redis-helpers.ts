// Real redis-server processes for the online-store tests: one standalone server, or a 3-master
// cluster, each on a free loopback port in its own temp dir, stopped afterwards. When
// redis-server is not installed the tests fail loudly, unless FRESCO_SKIP_REDIS=1 says to skip.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const skipRedis = process.env.FRESCO_SKIP_REDIS === '1';
if (skipRedis) console.warn('FRESCO_SKIP_REDIS=1: skipping the Redis online-store tests');

export function redisInstalled(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

async function waitReady(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`redis-server on port ${port} exited: ${log()}`);
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`redis-server on port ${port} did not start: ${log()}`);
}

export async function startRedis(options: { port?: number; cluster?: boolean; dir?: string } = {}): Promise<RedisServer> {
  if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server redis-tools (or set FRESCO_SKIP_REDIS=1 to skip these tests)');
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'fresco-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
  if (options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000');
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await waitReady(port, proc, () => out);
  return {
    port,
    dir,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}

export interface RedisCluster {
  nodes: string[];
  stop(): Promise<void>;
}

/** Three masters, no replicas, joined with `redis-cli --cluster create`. */
export async function startCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-redis-cluster-'));
  const servers = await Promise.all([0, 1, 2].map(() => startRedis({ cluster: true, dir })));
  const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
  execFileSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
  // Wait until every node reports the cluster as ok.
  for (let i = 0; i < 200; i++) {
    const ok = servers.every((s) => execFileSync('redis-cli', ['-p', String(s.port), 'cluster', 'info']).toString().includes('cluster_state:ok'));
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    nodes,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
