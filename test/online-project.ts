// A generated feature-store project for the online tests: drivers with timestamped stats (ties
// broken by a created timestamp, a TTL), a static profile table, and windowed delay statistics
// per airport. Deterministic (seeded), written as CSV.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BASE = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('.000Z', '');

export function writeOnlineProject(options: { drivers?: number; airports?: number; seed?: number } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-online-project-'));
  const drivers = options.drivers ?? 300;
  const airports = options.airports ?? 40;
  const r = rng(options.seed ?? 7);
  mkdirSync(join(dir, 'features'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'fresco.yaml'), 'project: online_test\n');
  writeFileSync(
    join(dir, 'features', 'drivers.yaml'),
    `entities:
  - { name: driver, join_keys: [driver_id] }
  - { name: airport, join_keys: [airport] }
sources:
  - name: driver_stats
    path: data/driver_stats.csv
    timestamp: event_timestamp
    created_timestamp: created
    expectations:
      - { column: conv_rate, min: 0, max: 1 }
  - name: driver_profile
    path: data/driver_profile.csv
  - name: flights
    path: data/flights.csv
    timestamp: date
feature_tables:
  - name: driver_hourly
    entities: [driver]
    source: driver_stats
    ttl: 6h
    features:
      - { name: conv_rate, type: float32 }
      - { name: trips, type: int32 }
      - { name: rating, type: float64 }
      - { name: active, type: bool }
  - name: driver_profile
    entities: [driver]
    source: driver_profile
    features:
      - { name: city, type: string }
      - { name: joined, type: timestamp }
  - name: origin_delays
    entities: [airport]
    source: flights
    key_map: { airport: origin }
    aggregation: { interval: 1h }
    features:
      - { name: n_2h, type: int64, function: count, window: 2h }
      - { name: avg_2h, type: float64, function: avg, column: delay, window: 2h }
      - { name: max_6h, type: float64, function: max, column: delay, window: 6h }
feature_services:
  - name: driver_model
    features: [driver_hourly.conv_rate, driver_hourly.trips, driver_profile.city]
`,
  );
  const stats = ['event_timestamp,created,driver_id,conv_rate,trips,rating,active'];
  for (let d = 1; d <= drivers; d++) {
    const events = 1 + Math.floor(r() * 6);
    for (let e = 0; e < events; e++) {
      const t = BASE + Math.floor(r() * 48) * HOUR;
      const ties = r() < 0.2 ? 2 : 1; // same event time, later created wins
      for (let k = 0; k < ties; k++) {
        const rating = r() < 0.1 ? '' : (r() * 5).toFixed(3);
        stats.push(`${iso(t)},${iso(t + k * 60_000)},${d},${r().toFixed(4)},${Math.floor(r() * 100)},${rating},${r() < 0.5}`);
      }
    }
  }
  writeFileSync(join(dir, 'data', 'driver_stats.csv'), `${stats.join('\n')}\n`);
  const cities = ['SF', 'LA', 'NYC', 'Zürich', "O'Hare"];
  const profile = ['driver_id,city,joined'];
  for (let d = 1; d <= drivers; d += 1 + Math.floor(r() * 2)) profile.push(`${d},${cities[Math.floor(r() * cities.length)]},${iso(BASE - Math.floor(r() * 1000) * HOUR)}`);
  writeFileSync(join(dir, 'data', 'driver_profile.csv'), `${profile.join('\n')}\n`);
  const flights = ['date,origin,delay'];
  for (let i = 0; i < airports * 30; i++) flights.push(`${iso(BASE + Math.floor(r() * 48 * 60) * 60_000)},A${Math.floor(r() * airports)},${Math.floor(r() * 120 - 20)}`);
  writeFileSync(join(dir, 'data', 'flights.csv'), `${flights.join('\n')}\n`);
  return dir;
}
