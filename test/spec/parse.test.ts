// parseSpec on valid input: the documented example, defaults, both step forms, naming rules,
// environment order and value coercions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/spec/parse.ts';
import { deriveStepName } from '../../src/spec/steps.ts';
import { FULL_EXAMPLE } from './fixtures.ts';

const lines = (...rows: string[]) => rows.join('\n') + '\n';
const MINIMAL = lines('app: hello', 'service:', '  command: node server.js', 'environments:', '  production: {}');
const withTop = (...rows: string[]) => MINIMAL + lines(...rows);

test('the full documented example parses to the exact AppSpec', () => {
  assert.deepEqual(parseSpec(FULL_EXAMPLE), {
    app: 'hello',
    build: [{ name: 'npm ci', run: 'npm ci', timeoutMs: 30 * 60_000 }],
    test: [{ name: 'npm test', run: 'npm test', timeoutMs: 30 * 60_000 }],
    artifact: { include: ['server.js', 'package.json', 'node_modules'] },
    service: {
      command: 'node server.js',
      instances: 2,
      health: { path: '/healthz', intervalMs: 1000, timeoutMs: 2000, deadlineMs: 60_000 },
      drainTimeoutMs: 30_000,
      stopGraceMs: 10_000,
      env: { KEY: 'value' },
      metrics: null,
    },
    environments: [
      { name: 'staging', approval: false, strategy: { kind: 'rolling', maxSurge: 1, maxUnavailable: 0 }, instances: 2, env: {} },
      { name: 'production', approval: true, strategy: { kind: 'rolling', maxSurge: 1, maxUnavailable: 0 }, instances: 3, env: { KEY: 'value' } },
    ],
    alerts: [],
  });
});

test('a minimal file gets every default', () => {
  assert.deepEqual(parseSpec(MINIMAL), {
    app: 'hello',
    build: [],
    test: [],
    artifact: { include: null },
    service: {
      command: 'node server.js',
      instances: 1,
      health: { path: '/healthz', intervalMs: 1000, timeoutMs: 2000, deadlineMs: 60_000 },
      drainTimeoutMs: 30_000,
      stopGraceMs: 10_000,
      env: {},
      metrics: null,
    },
    environments: [{ name: 'production', approval: false, strategy: { kind: 'rolling', maxSurge: 1, maxUnavailable: 0 }, instances: 1, env: {} }],
    alerts: [],
  });
});

test('partial health, environment and rolling settings are filled from defaults', () => {
  const spec = parseSpec(lines(
    'app: hello',
    'service:',
    '  command: node server.js',
    '  instances: 4',
    '  health: {path: /up, deadline: 2m}',
    'environments:',
    '  prod:',
    '    strategy:',
    '      rolling: {max_unavailable: 2}',
  ));
  assert.deepEqual(spec.service.health, { path: '/up', intervalMs: 1000, timeoutMs: 2000, deadlineMs: 120_000 });
  assert.deepEqual(spec.environments[0], {
    name: 'prod', approval: false, instances: 4, env: {}, strategy: { kind: 'rolling', maxSurge: 1, maxUnavailable: 2 },
  });
});

test('empty values mean "defaults" for optional sections', () => {
  const spec = parseSpec(lines(
    'app: hello',
    'build:',
    'test: ~',
    'artifact:',
    'service:',
    '  command: x',
    '  env:',
    '  health:',
    'environments:',
    '  staging:',
    '  production: {strategy: , env: }',
    '  canary-ish: {strategy: {rolling: }}',
  ));
  assert.deepEqual(spec.build, []);
  assert.deepEqual(spec.test, []);
  assert.deepEqual(spec.artifact, { include: null });
  assert.deepEqual(spec.service.env, {});
  assert.equal(spec.service.health.path, '/healthz');
  for (const env of spec.environments) {
    assert.deepEqual(env.strategy, { kind: 'rolling', maxSurge: 1, maxUnavailable: 0 });
    assert.deepEqual(env.env, {});
  }
});

test('environments keep the order written, which is the promotion order', () => {
  const spec = parseSpec(lines(
    'app: hello',
    'service: {command: x}',
    'environments:',
    '  qa: {}',
    '  zeta: {}',
    '  alpha: {}',
    '  production: {approval: true}',
  ));
  assert.deepEqual(spec.environments.map((e) => e.name), ['qa', 'zeta', 'alpha', 'production']);
});

test('steps: string and object forms, timeouts and derived names', () => {
  const spec = parseSpec(withTop(
    'build:',
    '  - npm ci',
    '  - name: compile',
    '    run: npm run build',
    '    timeout: 10m',
    '  - run: npm run lint',
    '  - {run: make, timeout: 90s}',
    'test:',
    '  - npm test',
  ));
  assert.deepEqual(spec.build, [
    { name: 'npm ci', run: 'npm ci', timeoutMs: 30 * 60_000 },
    { name: 'compile', run: 'npm run build', timeoutMs: 600_000 },
    { name: 'npm run lint', run: 'npm run lint', timeoutMs: 30 * 60_000 },
    { name: 'make', run: 'make', timeoutMs: 90_000 },
  ]);
  assert.deepEqual(spec.test, [{ name: 'npm test', run: 'npm test', timeoutMs: 30 * 60_000 }]);
});

test('steps: a multi-line script keeps its text; its name comes from the first line', () => {
  const spec = parseSpec(withTop('build:', '  - |', '    set -e', '    npm ci', '  - name: all', '    run: |', '      a', '      b'));
  assert.deepEqual(spec.build[0], { name: 'set -e …', run: 'set -e\nnpm ci\n', timeoutMs: 30 * 60_000 });
  assert.equal(spec.build[1]?.run, 'a\nb\n');
});

test('steps: duplicate derived names get " (2)", " (3)" across build and test; written names are never renamed', () => {
  const spec = parseSpec(withTop(
    'build:',
    '  - npm test',
    '  - {name: npm test (2), run: echo}',
    'test:',
    '  - npm test',
    '  - npm   test',
  ));
  assert.deepEqual(spec.build.map((s) => s.name), ['npm test', 'npm test (2)']);
  assert.deepEqual(spec.test.map((s) => s.name), ['npm test (3)', 'npm test (4)']);
  assert.equal(spec.test[1]?.run, 'npm   test'); // the command itself is never rewritten
});

test('steps: a written name wins over an earlier derived name', () => {
  const spec = parseSpec(withTop('build:', '  - npm ci', '  - {name: npm ci, run: npm ci --offline}'));
  assert.deepEqual(spec.build.map((s) => s.name), ['npm ci (2)', 'npm ci']);
});

test('deriveStepName shortens long commands at a word boundary', () => {
  assert.equal(deriveStepName('npm ci'), 'npm ci');
  assert.equal(deriveStepName('  npm \t run   build  '), 'npm run build');
  const long = deriveStepName('docker build --tag registry.local/hello:latest --file Dockerfile .');
  assert.ok(long.length <= 40, long);
  // The last space is too early (it would drop most of the text), so this one is cut hard.
  assert.equal(long, 'docker build --tag registry.local/hello…');
  assert.equal(deriveStepName('npm run build -- --mode production --sourcemap --verbose'), 'npm run build -- --mode production…');
  assert.equal(deriveStepName('x'.repeat(60)), `${'x'.repeat(39)}…`);
  assert.equal(deriveStepName('\n\n  make\n  make install\n'), 'make …');
});

test('env values: numbers and booleans become the text that was written', () => {
  const spec = parseSpec(lines(
    'app: hello',
    'service:',
    '  command: x',
    '  env: {VERSION: 1.10, ZIP: 0800, DEBUG: true, RATIO: 0.5, EMPTY: "", QUOTED: "2", _under: x}',
    'environments: {p: {env: {LOG_LEVEL: debug}}}',
  ));
  assert.deepEqual(spec.service.env, { VERSION: '1.10', ZIP: '0800', DEBUG: 'true', RATIO: '0.5', EMPTY: '', QUOTED: '2', _under: 'x' });
  assert.deepEqual(spec.environments[0]?.env, { LOG_LEVEL: 'debug' });
});

test('env: a __proto__ variable is an ordinary key, not a prototype change', () => {
  const spec = parseSpec(lines('app: hello', 'service: {command: x, env: {__proto__: polluted}}', 'environments: {p: }'));
  assert.equal(Object.getPrototypeOf(spec.service.env), Object.prototype);
  assert.deepEqual(Object.keys(spec.service.env), ['__proto__']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('YAML anchors and aliases work for shared values', () => {
  const spec = parseSpec(lines(
    'app: hello',
    'service:',
    '  command: x',
    '  env: &common {A: "1"}',
    'environments:',
    '  staging: {env: *common}',
    '  production: {env: *common, approval: true}',
  ));
  assert.deepEqual(spec.environments.map((e) => e.env), [{ A: '1' }, { A: '1' }]);
});

test('artifact paths are normalised', () => {
  const spec = parseSpec(withTop('artifact:', '  include: [./dist/, public//img, server.js, .env.example]'));
  assert.deepEqual(spec.artifact.include, ['dist', 'public/img', 'server.js', '.env.example']);
});

test('durations accept ms, s, m, h; 0 is allowed for drain_timeout and stop_grace', () => {
  const spec = parseSpec(lines(
    'app: hello',
    'service:',
    '  command: x',
    '  drain_timeout: 0s',
    '  stop_grace: 500ms',
    '  health: {interval: 250ms, timeout: 1.5s, deadline: 1h}',
    'environments: {p: }',
  ));
  assert.equal(spec.service.drainTimeoutMs, 0);
  assert.equal(spec.service.stopGraceMs, 500);
  assert.deepEqual(spec.service.health, { path: '/healthz', intervalMs: 250, timeoutMs: 1500, deadlineMs: 3_600_000 });
});

test('accepts a leading "---", CRLF line endings and quoted scalars', () => {
  const spec = parseSpec('---\r\napp: "hello"\r\nservice:\r\n  command: \'node server.js\'\r\nenvironments:\r\n  "production": {}\r\n');
  assert.equal(spec.app, 'hello');
  assert.equal(spec.service.command, 'node server.js');
  assert.equal(spec.environments[0]?.name, 'production');
});

test('boundary values: 40-char app name, 30-char environment name, 100 instances', () => {
  const app = 'a'.repeat(40);
  const env = 'e'.repeat(30);
  const spec = parseSpec(lines(`app: ${app}`, 'service: {command: x, instances: 100}', `environments: {${env}: }`));
  assert.equal(spec.app, app);
  assert.equal(spec.environments[0]?.name, env);
  assert.equal(spec.environments[0]?.instances, 100);
});

test('parsing is pure: the same text gives equal, independent results', () => {
  const a = parseSpec(FULL_EXAMPLE);
  const b = parseSpec(FULL_EXAMPLE);
  assert.deepEqual(a, b);
  // Defaults are fresh objects: mutating one result cannot leak into another environment or parse.
  const [staging, production] = a.environments;
  assert.ok(staging && production);
  a.service.health.intervalMs = 5;
  assert.ok(staging.strategy.kind === 'rolling' && production.strategy.kind === 'rolling');
  staging.strategy.maxSurge = 7;
  assert.equal(production.strategy.maxSurge, 1);
  assert.equal(b.service.health.intervalMs, 1000);
  assert.deepEqual(parseSpec(MINIMAL).environments[0]?.strategy, { kind: 'rolling', maxSurge: 1, maxUnavailable: 0 });
});
