/**
 * Retry timing, pure (Postfix qmgr semantics, `minimal_backoff_time`,
 * `maximal_backoff_time`, `maximal_queue_lifetime`, `bounce_queue_lifetime`).
 *
 * - After the n-th delivery pass of a message (n >= 1) the next attempt is
 *   `min_backoff * 2^(n-1)`, capped at `max_backoff`, after the pass.
 * - A recipient that is deferred when the message is older than its lifetime
 *   (`bounce_lifetime` for null-sender messages) expires: it is bounced with
 *   its last temporary reason.
 */
export interface BackoffPolicy {
  minBackoffMs: number;
  maxBackoffMs: number;
  maxLifetimeMs: number;
  bounceLifetimeMs: number;
}

export function backoffDelay(policy: BackoffPolicy, passes: number): number {
  const n = Math.max(1, passes);
  const raw = policy.minBackoffMs * 2 ** Math.min(n - 1, 40);
  return Math.min(policy.maxBackoffMs, Math.max(policy.minBackoffMs, raw));
}

export function isExpired(policy: BackoffPolicy, sender: string, receivedAt: number, now: number): boolean {
  const lifetime = sender === '' ? policy.bounceLifetimeMs : policy.maxLifetimeMs;
  return now - receivedAt >= lifetime;
}
