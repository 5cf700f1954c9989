import type { Context } from 'hono';
import { SlipwayError } from '../core/errors.ts';

// Request parsing shared by the route modules: bad input becomes a SlipwayError (400) that says what to send.

export async function body(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch { /* fall through */ }
  throw new SlipwayError('request.bad_json', 'the request body is not a JSON object', { hint: 'send Content-Type: application/json with an object body' });
}

export function str(value: unknown, name: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new SlipwayError('request.missing', `"${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new SlipwayError('request.type', `"${name}" must be a string`);
  return value;
}
