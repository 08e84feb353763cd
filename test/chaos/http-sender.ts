/**
 * The paced HTTP producer of the chaos suite: posts generated requests to `POST /api/events` at a
 * steady rate of events (a few in flight at once), checks every answer against what its request
 * must get, and counts what was accepted per type.
 */
import { bodyText, type GeneratedRequest } from './http-bodies.js';

/** What the service answered, as far as the checks need it. */
interface Answer {
  status: number;
  retryAfter: string | null;
  body: {
    accepted?: number;
    rejected?: { index: number; code: string }[];
    error?: { code?: string };
  };
}

/** Options of {@link PacedSender}. */
export interface PacedSenderOptions {
  /** Events per second posted (a refused-whole request counts as one). */
  readonly eventsPerSecond: number;
  /** Most requests in flight. */
  readonly maxInFlight: number;
}

const sizeOf = (r: GeneratedRequest) => (r.kind === 'events' ? r.events.length : 1);

/**
 * Posts `requests` to `<url>/api/events` at the rate, as far as {@link allow} lets it (one
 * allowance per phase of a scenario); never throws from its timer (see `mismatches`).
 */
export class PacedSender {
  /** Answers by status. */
  readonly statuses = new Map<number, number>();
  /** Events accepted (202), per type. */
  readonly acceptedByType = new Map<string, number>();
  acceptedTotal = 0;
  readonly mismatches: string[] = [];
  private next = 0;
  private allowed = 0;
  /** Events that may be posted now: the rate times the time since the last tick, carried. */
  private credit = 0;
  private lastTickAt = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly requests: readonly GeneratedRequest[],
    private readonly options: PacedSenderOptions,
  ) {}

  /** Requests answered so far. */
  get answered(): number {
    let n = 0;
    for (const c of this.statuses.values()) n += c;
    return n;
  }

  /** Requests allowed so far (at most all of them). */
  get allowedCount(): number {
    return this.allowed;
  }

  get isDone(): boolean {
    return this.answered >= this.requests.length;
  }

  /** Lets `n` more requests be posted (at the rate); `Infinity`: all that are left. */
  allow(n: number): void {
    this.allowed = Math.min(this.requests.length, this.allowed + n);
  }

  start(): this {
    this.lastTickAt = performance.now();
    this.timer = setInterval(() => this.tick(), 10);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const rate = this.options.eventsPerSecond;
    this.credit = Math.min(rate, this.credit + (rate * (now - this.lastTickAt)) / 1_000);
    this.lastTickAt = now;
    while (this.next < this.allowed && this.inFlight < this.options.maxInFlight) {
      const r = this.requests[this.next] as GeneratedRequest;
      if (this.credit < sizeOf(r)) break;
      this.credit -= sizeOf(r);
      this.next++;
      this.inFlight++;
      void this.postChecked(r).finally(() => this.inFlight--);
    }
    if (this.next >= this.allowed) this.credit = 0;
  }

  /** Posts `r` now (outside the pacing), checked and counted like the others. */
  post(r: GeneratedRequest): Promise<void> {
    return this.postChecked(r);
  }

  private async postChecked(r: GeneratedRequest): Promise<void> {
    const body = r.kind === 'events' ? bodyText(r, Date.now()) : r.body;
    const contentType = r.kind === 'events' ? 'application/json' : r.contentType;
    let answer: Answer;
    try {
      const res = await fetch(`${this.url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      const text = await res.text();
      answer = {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: JSON.parse(text) as Answer['body'],
      };
    } catch (err) {
      this.mismatch(`no JSON answer (${String(err)}) to ${body.slice(0, 200)}`);
      answer = { status: -1, retryAfter: null, body: {} };
    }
    this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
    if (answer.status !== -1) this.check(r, answer, body);
  }

  private check(r: GeneratedRequest, a: Answer, body: string): void {
    const what = () =>
      `${a.status} ${JSON.stringify(a.body).slice(0, 300)} to ${body.slice(0, 300)}`;
    const code = a.body.error?.code;
    if (r.kind === 'refused') {
      const codes =
        r.status === 413
          ? ['CM_ERR_PAYLOAD_TOO_LARGE']
          : ['CM_ERR_BAD_REQUEST', 'CM_ERR_INVALID_EVENT'];
      if (a.status !== r.status || !codes.includes(code ?? ''))
        this.mismatch(`${r.what}: ${what()}`);
      return;
    }
    if (a.status === 429) {
      if (code !== 'CM_ERR_RATE_LIMITED' || !(Number(a.retryAfter) >= 1)) this.mismatch(what());
      return;
    }
    const invalid = r.events.flatMap((e, i) => (e.isValid ? [] : [i]));
    const valid = r.events.length - invalid.length;
    const rejected = (a.body.rejected ?? []).map((x) => x.index);
    const codesOk = (a.body.rejected ?? []).every((x) => x.code === 'CM_ERR_INVALID_EVENT');
    const expectedStatus = valid > 0 ? 202 : 400;
    if (
      a.status !== expectedStatus ||
      a.body.accepted !== valid ||
      rejected.join() !== invalid.join() ||
      !codesOk ||
      (a.status === 400 && code !== 'CM_ERR_INVALID_EVENT')
    ) {
      this.mismatch(
        `expected ${expectedStatus} accepting ${valid}, rejecting [${invalid.join()}]: ${what()}`,
      );
      return;
    }
    this.acceptedTotal += valid;
    for (const e of r.events) {
      if (!e.isValid) continue;
      const type = e.fields.type as string;
      this.acceptedByType.set(type, (this.acceptedByType.get(type) ?? 0) + 1);
    }
  }

  private mismatch(text: string): void {
    if (this.mismatches.length < 20) this.mismatches.push(text);
  }
}
