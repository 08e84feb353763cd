import { waitUntil } from '../helpers/wait.js';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, startServer, type Message, type TestServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startServer({ statsIntervalMs: 50 });
});
afterAll(async () => {
  await t.close();
});

async function withClient<T>(fn: (c: TestClient) => Promise<T>, server = t): Promise<T> {
  const c = await TestClient.connect(server.wsUrl);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

describe('WebSocket requests', () => {
  it('historical answers a page with the request id, like /api/events', async () => {
    const base = Date.now() - 10_000;
    for (let i = 0; i < 5; i++) {
      t.monitor.recordEvent('ws-hist', {
        kind: i === 4 ? 'error' : 'response',
        timestamp: base + i,
      });
    }
    await withClient(async (c) => {
      const page = await c.request({ type: 'historical', connectionType: 'ws-hist', limit: 3 });
      expect(page).toMatchObject({ type: 'historical', source: 'memory', clipped: false });
      const events = page.events as { timestamp: number }[];
      expect(events.map((e) => e.timestamp)).toEqual([base + 4, base + 3, base + 2]);
      const next = await c.request({
        type: 'historical',
        connectionType: 'ws-hist',
        limit: 3,
        before: page.nextBefore,
      });
      expect((next.events as { timestamp: number }[]).map((e) => e.timestamp)).toEqual([
        base + 1,
        base,
      ]);
      expect(next.nextBefore).toBeNull();
      const errors = await c.request({
        type: 'historical',
        connectionType: 'ws-hist',
        errorsOnly: true,
        from: new Date(base).toISOString(),
        to: base + 10,
      });
      expect((errors.events as unknown[]).length).toBe(1);
      c.send({ type: 'status', id: 7 });
      expect(await c.waitFor((m) => m.id === 7)).toMatchObject({ type: 'status' });
    });
  });

  it('time_series answers buckets, for one type or all', async () => {
    await withClient(async (c) => {
      const one = await c.request({ type: 'time_series', connectionType: 'ws-hist', bucket: '1m' });
      expect(one).toMatchObject({
        type: 'time_series',
        bucketMs: 60_000,
        source: 'memory',
        clipped: false,
      });
      const points = one.points as { t: number; events: number }[];
      expect(points.reduce((n, p) => n + p.events, 0)).toBe(5);
      const all = await c.request({ type: 'time_series', bucket: 300_000 });
      expect(all.bucketMs).toBe(300_000);
    });
  });

  it('status answers the /api/status body', async () => {
    await withClient(async (c) => {
      const m = await c.request({ type: 'status' });
      const http = (await (await fetch(`${t.url}/api/status`)).json()) as Record<string, unknown>;
      const status = m.status as Record<string, unknown>;
      expect(Object.keys(status).sort()).toEqual(Object.keys(http).sort());
      expect(status.version).toBe(http.version);
      expect((status.server as { wsConnections: number }).wsConnections).toBeGreaterThanOrEqual(1);
    });
  });
});

describe('WebSocket subscriptions', () => {
  it('streams only events recorded after subscribing, then stats every interval', async () => {
    t.monitor.recordEvent('ws-sub', { kind: 'connect' }); // before subscribing: must not arrive
    await withClient(async (c) => {
      const ack = await c.request({ type: 'subscribe' });
      expect(ack).toMatchObject({ type: 'subscribe', ok: true });
      const recorded = t.monitor.recordEvent('ws-sub', { kind: 'response', durationMs: 7 });
      const m = await c.waitFor((x) => x.type === 'event');
      expect(m.event).toEqual(JSON.parse(JSON.stringify(recorded)));
      const stats = await c.waitFor((x) => x.type === 'stats', 5_000, c.messages.indexOf(m));
      expect(stats).toMatchObject({ dropped: 0 });
      expect((stats.stats as Record<string, { events: number }>)['ws-sub']?.events).toBe(2);
      expect((stats.status as { version: string }).version).toMatch(/\d/);
      expect(c.messages.filter((x) => x.type === 'event')).toHaveLength(1);
    });
  });

  it('filters by types and stops on unsubscribe', async () => {
    await withClient(async (c) => {
      await c.request({ type: 'subscribe', types: ['ws-a'] });
      t.monitor.recordEvent('ws-b', { kind: 'response' });
      const a = t.monitor.recordEvent('ws-a', { kind: 'response' });
      const got = await c.waitFor((x) => x.type === 'event');
      expect((got.event as { id: string }).id).toBe(a.id);
      const off = await c.request({ type: 'unsubscribe' });
      expect(off).toMatchObject({ type: 'unsubscribe', ok: true });
      const afterOff = c.messages.length;
      t.monitor.recordEvent('ws-a', { kind: 'response' });
      // A status round trip after the record proves any event message would already be here.
      await c.request({ type: 'status' });
      const late = c.messages
        .slice(afterOff)
        .filter((x) => x.type === 'event' || x.type === 'stats');
      expect(late).toEqual([]);
      expect(c.messages.filter((x) => x.type === 'event')).toHaveLength(1);
    });
  });

  it('samples a subscriber over its event budget and reports the dropped count in stats', async () => {
    const s = await startServer({ statsIntervalMs: 50, limits: { wsEventsPerSecond: 100 } });
    try {
      await withClient(async (c) => {
        await c.request({ type: 'subscribe' });
        const start = c.messages.length;
        for (let i = 0; i < 1000; i++)
          s.monitor.recordEvent('burst', { kind: 'response', durationMs: i });
        let delivered = 0;
        let dropped = 0;
        await waitUntil(
          () => {
            const seen = c.messages.slice(start);
            delivered = seen.filter((m) => m.type === 'event').length;
            dropped = seen
              .filter((m) => m.type === 'stats')
              .reduce((n, m) => n + (m.dropped as number), 0);
            return delivered + dropped >= 1000;
          },
          'every event delivered or counted as dropped',
          { timeoutMs: 5_000 },
        );
        expect(delivered + dropped).toBe(1000);
        expect(delivered).toBeGreaterThan(0);
        expect(delivered).toBeLessThanOrEqual(200);
        // Sampled across the burst, not just its head.
        const durations = c.messages
          .slice(start)
          .filter((m) => m.type === 'event')
          .map((m) => (m.event as { durationMs: number }).durationMs);
        expect(Math.max(...durations)).toBeGreaterThan(500);
      }, s);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/connection_monitor_ws_dropped_messages_total [1-9]\d*/);
    } finally {
      await s.close();
    }
  });

  it.each([
    ['terminated above wsCloseBufferedBytes', { wsCloseBufferedBytes: 256 * 1024 }],
    ['closed after wsSlowConsumerMs above wsBufferedBytes', { wsSlowConsumerMs: 300 }],
  ])(
    'cuts off a subscriber that does not read (%s) while a reading one keeps up',
    async (_, extra) => {
      const s = await startServer({
        statsIntervalMs: 50,
        limits: {
          wsEventsPerSecond: 100_000,
          wsBufferedBytes: 64 * 1024,
          wsCloseBufferedBytes: 64 * 1024 * 1024,
          ...extra,
        },
      });
      let raw: { socket: Socket; closed: Promise<void> } | undefined;
      try {
        raw = await rawClient(s.url, [{ type: 'subscribe', id: 1 }]);
        const good = await TestClient.connect(s.wsUrl);
        await good.request({ type: 'subscribe' });
        const big = 'x'.repeat(1000);
        const deadline = Date.now() + 20_000;
        while ((await serverInfo(s)).wsSubscribers > 1) {
          if (Date.now() > deadline)
            throw new Error('the non-reading subscriber was never cut off');
          for (let i = 0; i < 200; i++) {
            s.monitor.recordEvent('flood', { kind: 'response', metadata: { big } });
          }
          await new Promise((r) => setImmediate(r));
        }
        await waitUntil(async () => (await serverInfo(s)).wsConnections === 1, 'raw client gone', {
          timeoutMs: 10_000,
        });
        raw.socket.destroy();
        await raw.closed;
        // The reading client is still served.
        const e = s.monitor.recordEvent('flood', { kind: 'connect' });
        await good.waitFor(
          (m) => m.type === 'event' && (m.event as { id: string }).id === e.id,
          10_000,
        );
        await good.close();
      } finally {
        raw?.socket.destroy();
        await s.close();
      }
    },
  );

  it('cuts off a client that asks for big answers and never reads them', async () => {
    const s = await startServer({ limits: { wsCloseBufferedBytes: 256 * 1024 } });
    let raw: { socket: Socket } | undefined;
    try {
      const big = 'y'.repeat(1000);
      for (let i = 0; i < 1000; i++)
        s.monitor.recordEvent('pages', { kind: 'response', metadata: { big } });
      const ask = { type: 'historical', connectionType: 'pages', limit: 1000 };
      raw = await rawClient(
        s.url,
        Array.from({ length: 60 }, () => ask),
      );
      await waitUntil(async () => (await serverInfo(s)).wsConnections === 0, 'cut off', {
        timeoutMs: 20_000,
      });
    } finally {
      raw?.socket.destroy();
      await s.close();
    }
  });
});

/** The `server` part of /api/status. */
async function serverInfo(
  s: TestServer,
): Promise<{ wsSubscribers: number; wsConnections: number }> {
  const body = (await (await fetch(`${s.url}/api/status`)).json()) as {
    server: { wsSubscribers: number; wsConnections: number };
  };
  return body.server;
}

/** A raw TCP WebSocket client that sends `messages` after the handshake and then never reads. */
async function rawClient(
  url: string,
  messages: object[],
): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  for (const m of messages) {
    const payload = Buffer.from(JSON.stringify(m));
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
    const header =
      payload.length < 126
        ? Buffer.from([0x81, 0x80 | payload.length])
        : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    socket.write(Buffer.concat([header, mask, masked]));
  }
  socket.pause();
  return { socket, closed };
}

describe('WebSocket bad input', () => {
  const expectErrorMessage = (m: Message, code: string) => {
    expect(m.type).toBe('error');
    expect(m.code).toBe(code);
    expect(typeof m.message).toBe('string');
  };

  it('answers malformed, unknown and invalid messages with errors and stays usable', async () => {
    await withClient(async (c) => {
      const cases: [unknown, string, string | undefined][] = [
        ['{not json', 'CM_ERR_BAD_REQUEST', undefined],
        ['[1,2]', 'CM_ERR_BAD_REQUEST', undefined],
        ['"just a string"', 'CM_ERR_BAD_REQUEST', undefined],
        [{ id: 'u1', type: 'no_such_type' }, 'CM_ERR_BAD_REQUEST', 'u1'],
        [{ id: 'u2' }, 'CM_ERR_BAD_REQUEST', 'u2'],
        [{ id: 'u3', type: 'historical' }, 'CM_ERR_BAD_REQUEST', 'u3'],
        [
          { id: 'u4', type: 'historical', connectionType: 'BAD TYPE' },
          'CM_ERR_INVALID_QUERY',
          'u4',
        ],
        [
          { id: 'u5', type: 'historical', connectionType: 'x', limit: 5000 },
          'CM_ERR_INVALID_QUERY',
          'u5',
        ],
        [
          { id: 'u6', type: 'historical', connectionType: 'x', from: 'not a date' },
          'CM_ERR_INVALID_QUERY',
          'u6',
        ],
        [{ id: 'u7', type: 'time_series', bucket: '7m' }, 'CM_ERR_INVALID_QUERY', 'u7'],
        [{ id: 'u8', type: 'subscribe', types: 'all' }, 'CM_ERR_BAD_REQUEST', 'u8'],
        [{ id: 'u9', type: 'subscribe', types: ['Nope!'] }, 'CM_ERR_BAD_REQUEST', 'u9'],
        [{ id: { nested: true }, type: 'nope' }, 'CM_ERR_BAD_REQUEST', undefined],
      ];
      for (const [message, code, id] of cases) {
        const before = c.messages.length;
        c.send(message);
        const reply = await c.waitFor((m) => m.type === 'error', 5_000, before);
        expectErrorMessage(reply, code);
        expect(reply.id).toBe(id);
      }
      c.send(Buffer.from([1, 2, 3]));
      // Binary frames go through the same path; prove the connection still answers requests.
      expect(await c.request({ type: 'status' })).toMatchObject({ type: 'status' });
      expect(c.malformed).toEqual([]);
    });
  });

  it('answers an unknown type naming every known type, and a non-object as such', async () => {
    await withClient(async (c) => {
      const unknown = await c.request({ type: 'historicals' });
      expect(unknown).toMatchObject({ type: 'error', code: 'CM_ERR_BAD_REQUEST', field: 'type' });
      expect(unknown.message).toBe(
        'unknown message type "historicals": expected historical, time_series, status, instances, notable, subscribe or unsubscribe',
      );
      const before = c.messages.length;
      c.send('[{"type":"status"}]');
      const array = await c.waitFor((m) => m.type === 'error', 5_000, before);
      expect(array.message).toBe('a message must be a JSON object with a type');
    });
  });

  it('answers an oversized message with an error and keeps the connection; closes on a frame over the hard limit', async () => {
    const s = await startServer({ limits: { wsMessageBytes: 1024, wsFrameBytes: 8192 } });
    try {
      await withClient(async (c) => {
        c.send({ type: 'status', id: 'big', pad: 'x'.repeat(2000) });
        const reply = await c.waitFor((m) => m.type === 'error');
        expectErrorMessage(reply, 'CM_ERR_PAYLOAD_TOO_LARGE');
        expect(await c.request({ type: 'status' })).toMatchObject({ type: 'status' });
        c.send({ type: 'status', pad: 'x'.repeat(10_000) });
        expect(await c.closed).toBe(1009);
      }, s);
    } finally {
      await s.close();
    }
  });

  it('rate limits messages per connection, then serves again', async () => {
    const s = await startServer({ limits: { wsMessagesPerSecond: 5 } });
    try {
      await withClient(async (c) => {
        for (let i = 0; i < 30; i++) c.send({ type: 'status', id: i });
        await waitUntil(() => c.messages.length >= 30, '30 answers', { timeoutMs: 5_000 });
        const limited = c.messages.filter(
          (m) => m.type === 'error' && m.code === 'CM_ERR_RATE_LIMITED',
        );
        const answered = c.messages.filter((m) => m.type === 'status');
        expect(answered.length).toBeGreaterThanOrEqual(10);
        expect(answered.length).toBeLessThan(15);
        expect(limited.length).toBe(30 - answered.length);
        // Tokens refill at 5/s: a request half a second later is served.
        await waitUntil(() => false, 'condition', { timeoutMs: 400 }).catch(() => undefined);
        expect(await c.request({ type: 'status' }, 5_000)).toMatchObject({ type: 'status' });
      }, s);
    } finally {
      await s.close();
    }
  });

  it('closes a flooding client with 1008 after 1,000 rate-limited messages in a row, though tokens trickle in', async () => {
    // Default limit: 50 messages/s, burst 100. The flood is paced (10 messages a millisecond)
    // so tokens refill during it: the occasional message they let through must not reset the
    // count. Bounded: at most 5,000 messages to loopback, within 10 s.
    const s = await startServer();
    try {
      const c = await TestClient.connect(s.wsUrl);
      const deadline = Date.now() + 10_000;
      let sent = 0;
      while (c.closeCode === undefined && sent < 5_000 && Date.now() < deadline) {
        for (let i = 0; i < 10; i++) c.send({ type: 'status', id: sent++ });
        await new Promise((r) => setTimeout(r, 1));
      }
      const code = await Promise.race([
        c.closed,
        new Promise((r) => setTimeout(() => r('still open'), 2_000)),
      ]);
      if (code === 'still open') await c.close();
      expect(code, `${sent} messages sent`).toBe(1008);
      const limited = c.messages.filter(
        (m) => m.type === 'error' && m.code === 'CM_ERR_RATE_LIMITED',
      );
      const served = c.messages.filter((m) => m.type === 'status');
      // The burst, the few the trickle let through, then 999 rate-limited answers and the close.
      expect(served.length).toBeGreaterThanOrEqual(100);
      expect(limited.length).toBeGreaterThanOrEqual(999);
      expect(sent).toBeGreaterThan(1_000);
    } finally {
      await s.close();
    }
  });

  it('refuses connections beyond the connection limit with 1013', async () => {
    const s = await startServer({ limits: { wsConnections: 1 } });
    try {
      const first = await TestClient.connect(s.wsUrl);
      const second = await TestClient.connect(s.wsUrl);
      expect(await second.closed).toBe(1013);
      expect(await first.request({ type: 'status' })).toMatchObject({ type: 'status' });
      await first.close();
    } finally {
      await s.close();
    }
  });

  it('closes clients with 1001 when the server closes', async () => {
    const s = await startServer();
    const c = await TestClient.connect(s.wsUrl);
    await c.request({ type: 'subscribe' });
    await s.close();
    expect(await c.closed).toBe(1001);
  });
});
