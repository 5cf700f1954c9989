import assert from 'node:assert/strict';
import { SlipwayError } from '../../src/core/errors.ts';

/** Runs `fn`, which must throw a SlipwayError with `code` (and a message and hint matching). */
export function throwsCode(fn: () => unknown, code: string, message?: RegExp, hint?: RegExp): SlipwayError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SlipwayError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    if (hint) assert.match(err.hint ?? '', hint);
    return err;
  }
  assert.fail(`expected ${code}`);
}
