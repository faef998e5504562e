// The registry's library API and CLI: registration, refs, aliases and their history, archiving,
// diff, export -> import round trip, rejections that leave nothing behind, cross-connection cache.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { FrescoError } from '../src/errors/index.js';
import { ModelRegistry } from '../src/registry/index.js';

const examples = join(import.meta.dirname, '..', 'models');
const work = mkdtempSync(join(tmpdir(), 'fresco-registry-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = () => ModelRegistry.open(join(work, `reg-${n++}`));
const objects = (dir: string) => (existsSync(join(dir, 'objects')) ? readdirSync(join(dir, 'objects'), { recursive: true }).filter((p) => String(p).length > 3) : []);

describe('registering and resolving', () => {
  it('registers numbered, immutable versions with everything it is given', async () => {
    const r = fresh();
    const v1 = await r.register(join(examples, 'flights-delay'), {
      metrics: { auc: 0.71, logloss: 0.52 },
      trainingConfig: { epochs: 3, optimizer: { name: 'adam', lr: 0.01 } },
      datasets: { train: { rows: 1000, hash: 'sha256:aa' }, eval: { rows: 200 } },
      codeHash: 'sha256:code',
      paramsSummary: { parameters: 481 },
      reportHtml: '<html><body>ROC</body></html>',
      tags: ['demo'],
      createdBy: 'ada',
      aliases: ['staging'],
    });
    expect(v1).toMatchObject({ name: 'flights-delay', version: 1, createdBy: 'ada', metrics: { auc: 0.71, logloss: 0.52 }, tags: ['demo'], aliases: ['staging'], backend: 'onnx', inputKind: 'dataframe' });
    expect(v1.planHash).toBe(v1.manifest.plan_hash);
    expect(r.report('flights-delay@1')).toBe('<html><body>ROC</body></html>');
    const v2 = await r.register(join(examples, 'flights-delay'), { metrics: { auc: 0.74 }, trainingConfig: { epochs: 5, optimizer: { name: 'adam', lr: 0.01 } } });
    expect(v2.version).toBe(2);
    expect(Object.isFrozen(v2.metrics)).toBe(true);
    // Same content: the artifacts are stored once.
    expect(objects(r.dir).length).toBe(3); // fresco.json, model.onnx, report
    expect(r.resolve('flights-delay').version).toBe(2);
    expect(r.resolve('flights-delay@latest').version).toBe(2);
    expect(r.resolve('flights-delay@1').version).toBe(1);
    expect(r.resolve('flights-delay@staging').version).toBe(1);
    expect(r.list()).toEqual([{ name: 'flights-delay', versions: 2, latestVersion: 2, latestCreatedAt: v2.createdAt, aliases: { staging: 1 } }]);
    r.close();
  });

  it('refuses to change a version in the database itself', async () => {
    const r = fresh();
    await r.register(join(examples, 'mlp-50'));
    r.close();
    const db = new Database(join(r.dir, 'registry.db'));
    expect(() => db.prepare(`UPDATE versions SET metrics = '{"auc": 1}'`).run()).toThrow(/immutable/);
    expect(() => db.prepare('DELETE FROM versions').run()).toThrow(/never deleted/);
    db.close();
  });

  it('names what is missing', async () => {
    const r = fresh();
    await r.register(join(examples, 'mlp-50'));
    expect(() => r.resolve('nope')).toThrow(/no model named "nope"/);
    expect(() => r.resolve('mlp-50@7')).toThrow(/model "mlp-50" has no version 7/);
    expect(() => r.resolve('mlp-50@production')).toThrow(/model "mlp-50" has no alias "production"/);
    expect(() => r.resolve('mlp-50@production')).toThrow(FrescoError);
    expect(() => r.resolve('bad name')).toThrow(/model name "bad name" is invalid/);
    r.close();
  });
});

describe('aliases and archiving', () => {
  it('moves aliases atomically and keeps their history', async () => {
    const r = fresh();
    for (let i = 0; i < 3; i++) await r.register(join(examples, 'mlp-50'));
    r.setAlias('mlp-50', 1, 'production', 'ops');
    expect(r.resolve('mlp-50@production').version).toBe(1);
    const move = r.setAlias('mlp-50', 3, 'production', 'ops');
    expect(move).toMatchObject({ fromVersion: 1, toVersion: 3, by: 'ops' });
    expect(r.resolve('mlp-50@production').version).toBe(3);
    expect(r.resolve('mlp-50@3').aliases).toEqual(['production']);
    expect(r.aliasHistory('mlp-50', 'production').map((m) => [m.fromVersion, m.toVersion])).toEqual([[null, 1], [1, 3]]);
    expect(() => r.setAlias('mlp-50', 9, 'production')).toThrow(/has no version 9/);
    expect(() => r.setAlias('mlp-50', 1, '2fast')).toThrow(/alias "2fast" is invalid/);
    expect(() => r.setAlias('mlp-50', 1, 'latest')).toThrow(/alias "latest" is invalid/);
    r.close();
  });

  it('archives versions: not the latest any more, readable by number, no aliases', async () => {
    const r = fresh();
    await r.register(join(examples, 'mlp-50'));
    await r.register(join(examples, 'mlp-50'), { aliases: ['production'] });
    expect(() => r.archive('mlp-50', 2)).toThrow(expect.objectContaining({ code: 'FRESCO_ERR_MODEL_ARCHIVED', message: expect.stringMatching(/alias\(es\) production/) }));
    r.setAlias('mlp-50', 1, 'production');
    const archived = r.archive('mlp-50', 2, 'ops');
    expect(archived.archivedBy).toBe('ops');
    expect(r.resolve('mlp-50').version).toBe(1);
    expect(r.resolve('mlp-50@2').archivedAt).not.toBeNull();
    expect(() => r.setAlias('mlp-50', 2, 'staging')).toThrow(expect.objectContaining({ code: 'FRESCO_ERR_MODEL_ARCHIVED' }));
    r.close();
  });
});

describe('rejections register nothing', () => {
  it('leaves no version and no artifact behind', async () => {
    const r = fresh();
    const bad = join(work, 'bad-pkg');
    cpSync(join(examples, 'mlp-50'), bad, { recursive: true });
    writeFileSync(join(bad, 'model.onnx'), Buffer.concat([readFileSync(join(bad, 'model.onnx')), Buffer.from([0])]));
    await expect(r.register(bad)).rejects.toMatchObject({ code: 'FRESCO_ERR_CHECKSUM_MISMATCH', message: expect.stringMatching(/^model\.onnx: checksum mismatch/) });
    await expect(r.register(join(work, 'nowhere'))).rejects.toMatchObject({ code: 'FRESCO_ERR_NOT_FOUND' });
    await expect(r.register(join(examples, 'mlp-50'), { metrics: { auc: Number.NaN } })).rejects.toMatchObject({ code: 'FRESCO_ERR_INVALID_ARGUMENT', message: expect.stringMatching(/metric "auc"/) });
    expect(r.list()).toEqual([]);
    expect(objects(r.dir)).toEqual([]);
    expect(readdirSync(join(r.dir, 'tmp'))).toEqual([]);
    r.close();
  });
});

describe('export and import', () => {
  it('round-trips through an archive with identical checksums', async () => {
    const a = fresh();
    const v = await a.register(join(examples, 'flights-delay'), { aliases: ['production'] });
    const file = join(work, 'exported', 'flights.tgz');
    const out = await a.export('flights-delay@production', file);
    expect(out).toMatchObject({ name: 'flights-delay', version: 1, packageChecksum: v.packageChecksum });
    const b = fresh();
    const imported = await b.register(file, { name: 'flights-copy' });
    expect(imported.packageChecksum).toBe(v.packageChecksum);
    expect(imported.files).toEqual(v.files);
    const pkg = await b.materialize('flights-copy@1');
    expect(pkg.checksum).toBe(v.packageChecksum);
    expect(readFileSync(join(pkg.dir, 'model.onnx')).equals(readFileSync(join(examples, 'flights-delay', 'model.onnx')))).toBe(true);
    a.close();
    b.close();
  });
});

describe('diff', () => {
  it('puts configuration, features and metrics side by side', async () => {
    const r = fresh();
    await r.register(join(examples, 'flights-delay'), { metrics: { auc: 0.7, recall: 0.5 }, trainingConfig: { epochs: 3, lr: 0.1 } });
    await r.register(join(examples, 'flights-delay'), { metrics: { auc: 0.75 }, trainingConfig: { epochs: 5, lr: 0.1 } });
    const d = r.diff('flights-delay', 1, 2);
    const row = (section: string, key: string) => d.rows.find((x) => x.section === section && x.key === key);
    expect(row('config', 'epochs')).toMatchObject({ a: 3, b: 5, same: false });
    expect(row('config', 'lr')).toMatchObject({ same: true });
    expect(row('metrics', 'auc')!.delta).toBeCloseTo(0.05);
    expect(row('metrics', 'recall')).toMatchObject({ a: 0.5, b: null, same: false });
    expect(row('features', 'plan_hash')).toMatchObject({ same: true });
    r.close();
  });
});

describe('resolve cache', () => {
  it('sees another connection move an alias (PRAGMA data_version)', async () => {
    const a = fresh();
    await a.register(join(examples, 'mlp-50'));
    await a.register(join(examples, 'mlp-50'));
    a.setAlias('mlp-50', 1, 'production');
    const b = ModelRegistry.open(a.dir);
    expect(b.resolve('mlp-50@production').version).toBe(1);
    expect(b.resolve('mlp-50@production')).toBe(b.resolve('mlp-50@production')); // cached
    a.setAlias('mlp-50', 2, 'production');
    expect(b.resolve('mlp-50@production').version).toBe(2);
    await a.register(join(examples, 'mlp-50'));
    expect(b.resolve('mlp-50').version).toBe(3);
    a.close();
    b.close();
  });
});
