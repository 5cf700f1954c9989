// Generic webhook: the notification as slipway models it, versioned so receivers can rely on it.
// `id` is stable across retries, so a receiver can drop duplicates (delivery is at-least-once).
import type { Notification } from '../types.ts';

export function webhookPayload(n: Notification): Notification {
  return n;
}
