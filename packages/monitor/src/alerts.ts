// Alerts: a structured log line each, and optionally a webhook POST of the same JSON.
// Two sorts: a condition (a cache down, a file broken) is alerted when it begins and, while
// it lasts, repeated at most once per suppress interval, so a file that stays broken does
// not flood the operator; once it clears (clear()), the next occurrence alerts at once.
// An event (a route changed state, a cache is up again, a file reloaded after a failure)
// is always alerted: operators asked to be told of each change (down, up, down again).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from './log.js';

export type AlertKind =
  /** A route changed state (from/to, route, group, explanation). */
  | 'route_state_change'
  /** More routes changed in one VRP update than are alerted one by one: a summary. */
  | 'route_state_changes'
  | 'rtr_cache_down'
  /** A cache synced (first, or after down, stale or expired: those conditions clear). */
  | 'rtr_cache_up'
  | 'rtr_cache_stale'
  | 'rtr_cache_expired'
  /** A VRP source has not updated for longer than configured. */
  | 'vrp_update_overdue'
  /** An overdue VRP source updated again. */
  | 'vrp_update_resumed'
  /** One VRP delta withdrew more VRPs than configured (clears with the next normal one). */
  | 'vrp_mass_withdrawal'
  /** A VRP file could not be read: the last good data stays. */
  | 'vrp_source_error'
  /** A VRP file that could not be read was read again. */
  | 'vrp_source_recovered'
  /** A route file could not be read: the old routes stay. */
  | 'route_source_error'
  /** A route file that could not be read was read again. */
  | 'route_source_recovered';

export interface Alert {
  readonly kind: AlertKind;
  /** What the alert is about, for duplicate suppression (a route, a cache, a file). */
  readonly key: string;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface AlertSink {
  /**
   * A condition (kind + key) holds: alerted when it begins, then at most once per
   * suppress interval until it is cleared.
   */
  raise(alert: Alert): void;
  /** An event: always alerted (a state change, a recovery). */
  notify(alert: Alert): void;
  /**
   * The conditions `kinds` about `key` are over, so their next raise alerts at once.
   * True if one of them was held (the caller then tells of the recovery with notify).
   */
  clear(kinds: readonly AlertKind[], key: string): boolean;
}

export interface AlerterOptions {
  readonly log: Logger;
  /** http:// or https:// URL to POST each alert to as JSON. */
  readonly webhook?: URL;
  /** ms during which a condition that lasts (same kind + key) is not alerted again (default 1 hour). */
  readonly suppressMs?: number;
  /** ms before a webhook request is abandoned (default 10 s). */
  readonly webhookTimeoutMs?: number;
  readonly now?: () => number;
}

export class Alerter implements AlertSink {
  readonly #log: Logger;
  readonly #webhook: URL | undefined;
  readonly #suppressMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** Conditions held, by kind + key: when they were last alerted. */
  readonly #last = new Map<string, number>();
  readonly #pending = new Set<Promise<void>>();
  /** Alerts raised (not suppressed) so far. */
  raised = 0;
  suppressed = 0;

  constructor(options: AlerterOptions) {
    this.#log = options.log;
    this.#webhook = options.webhook;
    this.#suppressMs = options.suppressMs ?? 3_600_000;
    this.#timeoutMs = options.webhookTimeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  raise(alert: Alert): void {
    const now = this.#now();
    const id = `${alert.kind}\u0000${alert.key}`;
    const last = this.#last.get(id);
    if (last !== undefined && now - last < this.#suppressMs) {
      this.suppressed++;
      return;
    }
    this.#last.set(id, now);
    if (this.#last.size > 10_000) this.#prune(now);
    this.#send(alert, now);
  }

  notify(alert: Alert): void {
    this.#send(alert, this.#now());
  }

  clear(kinds: readonly AlertKind[], key: string): boolean {
    let held = false;
    for (const kind of kinds) if (this.#last.delete(`${kind}\u0000${key}`)) held = true;
    return held;
  }

  #send(alert: Alert, now: number): void {
    this.raised++;
    const body = {
      alert: alert.kind,
      severity: alert.severity,
      message: alert.message,
      ...alert.fields,
    };
    this.#log.log(
      alert.severity === 'info' ? 'info' : alert.severity === 'warning' ? 'warn' : 'error',
      'alert',
      body,
    );
    if (this.#webhook !== undefined) {
      const sending = this.#post(this.#webhook, { time: new Date(now).toISOString(), ...body });
      this.#pending.add(sending);
      void sending.finally(() => this.#pending.delete(sending));
    }
  }

  /** Waits for webhook requests in flight. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  #prune(now: number): void {
    for (const [id, at] of this.#last) if (now - at >= this.#suppressMs) this.#last.delete(id);
  }

  #post(url: URL, body: unknown): Promise<void> {
    const data = Buffer.from(JSON.stringify(body));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve) => {
      const fail = (reason: string): void => {
        this.#log.log('warn', 'webhook_failed', { url: redact(url), reason });
        resolve();
      };
      const req = send(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': data.length },
          timeout: this.#timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 300) fail(`HTTP ${res.statusCode}`);
            else resolve();
          });
          res.on('error', (error) => fail(error.message));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (error) => fail(error.message));
      req.end(data);
    });
  }
}

// Webhook URLs often carry a token; logs show the host only.
function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '/' : '/…'}`;
}
