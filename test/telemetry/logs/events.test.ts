import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { eventToRecord } from '../../../src/telemetry/logs/events.ts';
import { instanceOutputs } from '../../../src/telemetry/logs/tailer.ts';

test('events: operation events become system records with a level and a readable message', () => {
  const base = { seq: 1, ts: 1000, app: 'shop', env: 'prod', deployment: 'd-1', instance: 'shop-prod-3', actor: 'slipway', before: null };
  const started = eventToRecord({ ...base, kind: 'instance.start.done', after: { pid: 412, port: 4001 }, message: null });
  assert.deepEqual(started, {
    ts: 1000, app: 'shop', env: 'prod', release: null, instance: 'shop-prod-3', source: 'event', stream: 'system', level: 'info',
    message: 'instance.start.done pid=412 port=4001', fields: { kind: 'instance.start.done', actor: 'slipway', deployment: 'd-1', after: { pid: 412, port: 4001 } },
  });
  assert.equal(eventToRecord({ ...base, kind: 'instance.crashed', after: null, message: 'exited' }).level, 'error');
  assert.equal(eventToRecord({ ...base, kind: 'deployment.rolling_back', after: null, message: 'x' }).level, 'warn');
  assert.equal(eventToRecord({ ...base, kind: 'pipeline.step_failed', after: null, message: 'x' }).level, 'error');
  assert.equal(eventToRecord({ ...base, kind: 'deployment.created', after: { release: 'v7' }, message: null }).release, 'v7');
});

test('instance outputs: stdout.log and stderr.log in the instance directory, labelled', () => {
  assert.deepEqual(instanceOutputs('/data', { id: 'shop-prod-3', app: 'shop', env: 'prod', release: 'v7' }), [
    { file: path.join('/data/instances/shop-prod-3/stdout.log'), labels: { app: 'shop', env: 'prod', release: 'v7', instance: 'shop-prod-3', source: 'instance', stream: 'stdout' } },
    { file: path.join('/data/instances/shop-prod-3/stderr.log'), labels: { app: 'shop', env: 'prod', release: 'v7', instance: 'shop-prod-3', source: 'instance', stream: 'stderr' } },
  ]);
});
