import { promptForToken, tokenStore } from './auth.js';
import type {
  FleetStats,
  HistoryPage,
  InstanceInfo,
  NotableAnswer,
  StatsMap,
  StatusReport,
  TimeSeries,
} from './types.js';

/** An error answer of the service (`{ error: { code, message } }`) or a network failure. */
export class ApiError extends Error {
  constructor(
    /** HTTP status, 0 for a network failure. */
    readonly status: number,
    /** The service's stable error code (`CM_ERR_…`), or `NETWORK`/`HTTP_<status>`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Query parameters; undefined, null and '' are left out. */
export type Params = Record<string, string | number | boolean | null | undefined>;

/** Builds `path?query` relative to the page, so the dashboard works under any base path. */
export function apiUrl(path: string, params: Params = {}): string {
  const url = new URL(path.replace(/^\//, ''), document.baseURI);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    url.searchParams.set(k, String(v));
  }
  return url.toString();
}

/**
 * GET a JSON route. Sends the stored token as a Bearer header; on 401 shows the token prompt and
 * retries with the new token until the service accepts it.
 */
export async function getJson<T>(path: string, params: Params = {}): Promise<T> {
  for (let rejected = false; ; rejected = true) {
    const token = tokenStore.get();
    let res: Response;
    try {
      res = await fetch(apiUrl(path, params), {
        headers: token ? { Authorization: `Bearer ${token}`, Accept: 'application/json' } : {},
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', `service unreachable (${String(err)})`);
    }
    if (res.status === 401) {
      await promptForToken(rejected || token !== null);
      continue;
    }
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText);
    }
    return body as T;
  }
}

/** The routes the dashboard uses. `instance` (an id) narrows a read to one instance of the fleet. */
export const api = {
  status: () => getJson<StatusReport>('/api/status'),
  /** This process's live stats. */
  stats: () => getJson<StatsMap>('/api/stats'),
  /** The fleet's totals per type (merged in Redis) and its instances. */
  fleetStats: () => getJson<FleetStats>('/api/stats', { scope: 'fleet' }),
  instances: () => getJson<{ instances: InstanceInfo[] }>('/api/instances'),
  timeseries: (q: { type?: string; from: number; to: number; bucket: string; instance?: string }) =>
    getJson<TimeSeries>('/api/timeseries', q),
  notable: (q: { from: number; to: number; limit: number }) =>
    getJson<NotableAnswer>('/api/notable', q),
  events: (q: {
    type: string;
    from?: number | null;
    to?: number | null;
    limit: number;
    before?: string | null;
    kind?: string | null;
    errorsOnly?: boolean;
    instance?: string | null;
  }) => getJson<HistoryPage>('/api/events', { ...q, errorsOnly: q.errorsOnly ? 'true' : null }),
};
