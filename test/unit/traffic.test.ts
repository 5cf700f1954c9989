import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf, BUCKETS, chooseGroup, cookieValue, groupForBucket, type Candidate, type Group } from '../../src/router/traffic.ts';

const backend = (id: string, release: string): Candidate => ({ id, release, host: '127.0.0.1', port: 1, down: false });
const group = (name: string, release: string, weight: number, n = 1): Group => ({
  name, release, weight, next: 0, observations: [], backends: Array.from({ length: n }, (_, i) => backend(`${name}${i}`, release)),
});
const split = (canary: number) => [group('canary', 'v2', canary), group('baseline', 'v1', canary), group('stable', 'v1', 100 - 2 * canary, 2)];

test('traffic: weights split the bucket range, and raising the canary keeps its clients', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `client-${i}`);
  const share = (groups: Group[], name: string) => ids.filter((id) => groupForBucket(groups, bucketOf(id))!.name === name).length / ids.length;
  assert.ok(Math.abs(share(split(10), 'canary') - 0.10) < 0.01);
  assert.ok(Math.abs(share(split(10), 'baseline') - 0.10) < 0.01);
  assert.ok(Math.abs(share(split(25), 'canary') - 0.25) < 0.01);
  const before = ids.filter((id) => groupForBucket(split(5), bucketOf(id))!.name === 'canary');
  assert.ok(before.every((id) => groupForBucket(split(25), bucketOf(id))!.name === 'canary'), 'monotone: no canary client is moved back');
  assert.ok(ids.every((id) => bucketOf(id) >= 0 && bucketOf(id) < BUCKETS));
});

test('traffic: precedence is pinned release, forced canary, header rule, then the sticky split', () => {
  const groups = split(10);
  const none = () => 'fixed-id';
  assert.equal(chooseGroup(groups, [], { 'x-slipway-release': 'v2' }, none)!.group.name, 'canary');
  assert.equal(chooseGroup(groups, [], { cookie: 'a=1; slipway_release=v1' }, none)!.group.name, 'stable');
  assert.equal(chooseGroup(groups, [], { 'x-slipway-canary': 'always' }, none)!.group.name, 'canary');
  assert.equal(chooseGroup(groups, [], { 'x-slipway-canary': 'never' }, none)!.group.name, 'stable');
  assert.equal(chooseGroup(groups, [{ header: 'x-beta', value: '1' }], { 'x-beta': '1' }, none)!.group.name, 'canary');
  const fresh = chooseGroup(groups, [], {}, () => 'new-client')!;
  assert.equal(fresh.setCookie, 'slipway_client=new-client; Path=/; HttpOnly; SameSite=Lax');
  const returning = chooseGroup(groups, [], { cookie: 'slipway_client=new-client' }, () => 'other')!;
  assert.equal(returning.setCookie, undefined);
  assert.equal(returning.group.name, fresh.group.name);
  // A pin to a release that is gone falls through to the split.
  assert.ok(chooseGroup(groups, [], { 'x-slipway-release': 'v0' }, none));
});

test('traffic: an empty or down group falls back to one that can serve; a single mixed group honours pins', () => {
  const groups = split(50);
  groups[0].backends = [];
  for (let i = 0; i < 50; i++) assert.notEqual(chooseGroup(groups, [], {}, () => `c${i}`)!.group.name, 'canary');
  for (const g of groups) for (const b of g.backends) b.down = true;
  assert.equal(chooseGroup(groups, [], {}, () => 'x'), undefined);
  const mixed: Group = { name: 'stable', release: '', weight: 100, next: 0, observations: [], backends: [backend('a', 'v1'), backend('b', 'v2')], mixed: true };
  assert.deepEqual(chooseGroup([mixed], [], { 'x-slipway-release': 'v2' }, () => 'x'), { group: mixed, release: 'v2' });
  assert.equal(cookieValue('xslipway_client=1; slipway_client=2', 'slipway_client'), '2');
});
