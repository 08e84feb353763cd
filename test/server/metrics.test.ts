import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketIndex } from '../../src/core/histogram.js';
import { DURATION_BUCKETS_S, toPrometheusBuckets } from '../../src/server/duration-histogram.js';
import { startServer, type TestServer } from './helpers.js';

let t: TestServer;
let text: string;

/** Value of one sample line, e.g. `name{a="b"}`. */
function sample(series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series}`);
  return Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  t = await startServer({ processMetrics: true });
  const m = t.monitor;
  for (const ms of [0.5, 3, 3, 40, 200, 1500, 90_000])
    m.recordEvent('glm', { kind: 'response', durationMs: ms });
  m.recordEvent('glm', { kind: 'error', error: 'HTTP 500', durationMs: 12 });
  m.recordEvent('glm', { kind: 'timeout' });
  m.recordEvent('glm', { kind: 'custom-kind' });
  m.recordEvent('glm', { kind: 'another-kind' });
  m.recordEvent('redis', { kind: 'connect' });
  const res = await fetch(`${t.url}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  text = await res.text();
});
afterAll(async () => {
  await t.close();
});

describe('/metrics', () => {
  it('passes promtool check metrics', () => {
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(res.error, 'promtool must be installed (Debian package prometheus)').toBeUndefined();
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('counts events by type and kind, folding unknown kinds into other', () => {
    expect(sample('connection_monitor_events_total{type="glm",kind="response"}')).toBe(7);
    expect(sample('connection_monitor_events_total{type="glm",kind="error"}')).toBe(1);
    expect(sample('connection_monitor_events_total{type="glm",kind="timeout"}')).toBe(1);
    expect(sample('connection_monitor_events_total{type="glm",kind="other"}')).toBe(2);
    expect(text).not.toContain('custom-kind');
    expect(sample('connection_monitor_errors_total{type="glm"}')).toBe(2);
    expect(sample('connection_monitor_errors_total{type="redis"}')).toBe(0);
  });

  it('exports a per-type duration histogram in seconds', () => {
    const b = (le: string) =>
      sample(`connection_monitor_event_duration_seconds_bucket{type="glm",le="${le}"}`);
    expect(b('0.001')).toBe(1); // 0.5 ms
    expect(b('0.005')).toBe(3); // + 3 ms twice
    expect(b('0.025')).toBe(4); // + 12 ms
    expect(b('0.05')).toBe(5); // + 40 ms
    expect(b('0.25')).toBe(6); // + 200 ms
    expect(b('2.5')).toBe(7); // + 1.5 s
    expect(b('60')).toBe(7);
    expect(b('+Inf')).toBe(8); // + 90 s
    expect(sample('connection_monitor_event_duration_seconds_count{type="glm"}')).toBe(8);
    expect(sample('connection_monitor_event_duration_seconds_sum{type="glm"}')).toBeCloseTo(
      (0.5 + 3 + 3 + 40 + 200 + 1500 + 90_000 + 12) / 1000,
      6,
    );
    expect(text).not.toContain('connection_monitor_event_duration_seconds_bucket{type="redis"');
  });

  it('exports persistence gauges and process metrics', () => {
    expect(sample('connection_monitor_queue_depth')).toBe(0);
    expect(sample('connection_monitor_dropped_events')).toBe(0);
    expect(sample('connection_monitor_persisted_events')).toBe(0);
    expect(sample('connection_monitor_circuit_state')).toBe(0);
    expect(text).toContain('# TYPE connection_monitor_circuit_state gauge');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('maps log buckets to Prometheus buckets without under-counting any bound', () => {
    const durations = [0.001, 0.01, 0.99, 1, 1.01, 2.4, 9.99, 10, 10.2, 999, 1000, 59_999, 61_000];
    const counts = new Array<number>(232).fill(0);
    for (const d of durations) counts[bucketIndex(d)] = (counts[bucketIndex(d)] ?? 0) + 1;
    const cumulative = toPrometheusBuckets(counts);
    DURATION_BUCKETS_S.forEach((le, k) => {
      const exact = durations.filter((d) => d / 1000 <= le).length;
      const below = durations.filter((d) => d / 1000 <= le / 1.1).length;
      // Never more than the exact count; at least everything clearly below the bound.
      expect(cumulative[k], `le=${le}`).toBeLessThanOrEqual(exact);
      expect(cumulative[k], `le=${le}`).toBeGreaterThanOrEqual(below);
    });
    expect(cumulative[DURATION_BUCKETS_S.length]).toBe(durations.length);
  });
});
