import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from '../../src/artifact/store.ts';

test('artifacts: content-addressed, stored once, verified before use, corrupt bundles refused', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'slipway-artifacts-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = path.join(root, 'src');
  mkdirSync(path.join(src, 'lib'), { recursive: true });
  writeFileSync(path.join(src, 'server.js'), 'console.log(1)');
  writeFileSync(path.join(src, 'lib', 'util.js'), 'export {}');
  const store = new ArtifactStore(path.join(root, 'data'));

  const first = await store.pack(src, ['server.js', 'lib']);
  const again = await store.pack(src, ['server.js', 'lib']);
  assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(again.digest, first.digest, 'same inputs, same digest');

  const dir = await store.unpacked(first.digest);
  assert.equal(readFileSync(path.join(dir, 'lib', 'util.js'), 'utf8'), 'export {}');

  writeFileSync(path.join(src, 'server.js'), 'console.log(2)');
  const other = await store.pack(src, ['server.js', 'lib']);
  assert.notEqual(other.digest, first.digest);
  appendFileSync(store.bundlePath(other.digest), 'tampered');
  await assert.rejects(store.unpacked(other.digest), /failed verification/);
  await assert.rejects(store.verify('sha256:nothex'), /is not an artifact digest/);
});
