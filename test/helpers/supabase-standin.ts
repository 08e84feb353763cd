/**
 * A tiny PostgREST-like stand-in for Supabase: a `node:http` server on 127.0.0.1, port 0, that
 * answers `GET /rest/v1/<table>` with the table's rows as JSON (a plain `select=a,b` projects
 * columns; other PostgREST syntax is ignored). An unknown table answers 404 with PostgREST's error
 * shape, any other request 404. Every request is logged.
 */
import { createServer } from 'node:http';

/** One request the stand-in received. */
export interface SupabaseStandInRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The `apikey` header supabase-js sends with every request. */
  readonly apikey: string | undefined;
}

/** A running stand-in. */
export interface SupabaseStandIn {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, the project URL to give `createClient`. */
  readonly url: string;
  readonly requests: readonly SupabaseStandInRequest[];
  close(): Promise<void>;
}

type Row = Record<string, unknown>;

/** Starts a stand-in serving `tables` (name → rows). */
export async function startSupabaseStandIn(
  tables: Readonly<Record<string, readonly Row[]>>,
): Promise<SupabaseStandIn> {
  const requests: SupabaseStandInRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const apikey = req.headers.apikey;
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      apikey: typeof apikey === 'string' ? apikey : undefined,
    });
    req.resume();
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const table = /^\/rest\/v1\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(url.pathname)?.[1];
    if (req.method !== 'GET' || table === undefined) return send(404, { message: 'not found' });
    const rows = Object.hasOwn(tables, table) ? tables[table] : undefined;
    if (rows === undefined) {
      return send(404, {
        code: '42P01',
        details: null,
        hint: null,
        message: `relation "public.${table}" does not exist`,
      });
    }
    const select = url.searchParams.get('select');
    const columns = select === null || select === '*' ? undefined : select.split(',');
    send(
      200,
      columns === undefined
        ? rows
        : rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
