import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { git } from '../../src/pipeline/git.ts';
import { waitFor } from '../helpers/wait.ts';

const processesWith = (marker: string) => readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker); } catch { return false; }
});

test('git: a remote that accepts and then says nothing ends at the timeout, helpers and all', { timeout: 30_000 }, async (t) => {
  const silent = net.createServer(() => { /* accept, never answer */ });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => { silent.close(); });
  const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/team/repo.git`;

  // Before, git itself was killed but git-remote-http kept its output open: this never returned.
  const result = await git(['ls-remote', url], { timeoutMs: 1_500 });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no answer within 1\.5s/);
  await waitFor(() => processesWith(url).length === 0, 5_000, 'no git process for the silent remote');
});
