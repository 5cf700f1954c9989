// parseSpec on invalid input: every problem is a SlipwayError with a stable code, a message
// starting "<file>:<line>:<col>: " that points at the node to edit, and an actionable hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/spec/parse.ts';
import { SlipwayError } from '../../src/core/errors.ts';
import { FULL_EXAMPLE } from './fixtures.ts';

const lines = (...rows: string[]) => rows.join('\n') + '\n';
// Lines 1-5; appended rows start at line 6.
const MINIMAL = lines('app: hello', 'service:', '  command: node server.js', 'environments:', '  production: {}');
const withTop = (...rows: string[]) => MINIMAL + lines(...rows);
// A valid file whose service block can be extended: rows start at line 4 (indent them by 2).
const withService = (...rows: string[]) => lines('app: hello', 'service:', '  command: x', ...rows, 'environments: {p: }');
// A valid file with one environment "p" whose body starts at line 5 (indent rows by 4).
const withEnv = (...rows: string[]) => lines('app: hello', 'service: {command: x}', 'environments:', '  p:', ...rows);

function errorOf(text: string, file?: string): SlipwayError {
  try {
    parseSpec(text, file);
  } catch (error) {
    assert.ok(error instanceof SlipwayError, `expected a SlipwayError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected parseSpec to throw');
}

// `message` is everything after "slipway.yaml:<pos>: "; a string must match exactly.
function expectError(text: string, code: string, pos: string, message: string | RegExp, hint?: string | RegExp): SlipwayError {
  const error = errorOf(text);
  assert.equal(error.code, code, error.message);
  const prefix = `slipway.yaml:${pos}: `;
  assert.ok(error.message.startsWith(prefix), `expected "${prefix}…", got "${error.message}"`);
  const rest = error.message.slice(prefix.length);
  if (typeof message === 'string') assert.equal(rest, message);
  else assert.match(rest, message);
  if (typeof hint === 'string') assert.equal(error.hint, hint);
  else if (hint) assert.match(error.hint ?? '', hint);
  return error;
}

// ---- spec.syntax ----

test('syntax: invalid YAML carries yaml\'s own message and position', () => {
  expectError('app: hello\nservice:\n\tcommand: x\n', 'spec.syntax', '3:1', /^invalid YAML: Tabs are not allowed as indentation/, /spaces, not tabs/);
  expectError('app: hello\n  bad: indent\n', 'spec.syntax', '1:6', /^invalid YAML: /);
  expectError('app: [hello\n', 'spec.syntax', /* yaml reports the end of input */ '2:1', /^invalid YAML: /);
});

test('syntax: a duplicate key names the key and points at the second one', () => {
  expectError(lines('app: hello', 'service: {command: x}', 'service: {command: y}'), 'spec.syntax', '3:1',
    'duplicate key "service": Map keys must be unique', /only once/);
  expectError(withService('  instances: 1', '  instances: 2'), 'spec.syntax', '5:3', 'duplicate key "instances": Map keys must be unique');
});

test('syntax: more than one YAML document', () => {
  expectError(MINIMAL + '---\napp: other\n', 'spec.syntax', '6:1', 'the file contains more than one YAML document', /remove the second "---"/);
});

test('syntax: an unknown tag is refused, not silently read as a string', () => {
  expectError('app: !weird hello\n', 'spec.syntax', '1:6', 'invalid YAML: Unresolved tag: !weird', /remove the "!" tag/);
});

// ---- the top level ----

test('an empty file (or only comments) is an error with a minimal example', () => {
  for (const text of ['', '\n\n', '# nothing here yet\n', '---\n']) {
    expectError(text, 'spec.missing', '1:1', 'the file is empty', /app: hello/);
  }
});

test('a top level that is not a mapping is a type error', () => {
  expectError('- app: hello\n', 'spec.type', '1:1', 'expected a mapping at the top level, got a list');
  expectError('hello\n', 'spec.type', '1:1', 'expected a mapping at the top level, got a string "hello"');
  expectError('# comment\n42\n', 'spec.type', '2:1', 'expected a mapping at the top level, got an integer 42');
});

// ---- spec.unknown_key ----

test('unknown key: points at the key and lists the allowed keys at that level', () => {
  const rows = FULL_EXAMPLE.split('\n');
  rows.splice(13, 0, '  colour: red'); // becomes line 14, inside service:
  expectError(rows.join('\n'), 'spec.unknown_key', '14:3', 'unknown key "colour" under "service"',
    'allowed keys under "service": command, instances, env, drain_timeout, stop_grace, health, metrics');
});

test('unknown key: at the top level, with "did you mean" for near misses', () => {
  expectError(withTop('enviroments: {}'), 'spec.unknown_key', '6:1', 'unknown key "enviroments" at the top level',
    'did you mean "environments"? allowed keys at the top level: app, build, test, artifact, service, environments, alerts');
  expectError(withService('  helth: {path: /}'), 'spec.unknown_key', '4:3', 'unknown key "helth" under "service"', /^did you mean "health"\?/);
  expectError(withService('  Command: y'), 'spec.unknown_key', '4:3', 'unknown key "Command" under "service"', /^did you mean "command"\?/);
});

test('unknown key: is reported before a missing key in the same mapping', () => {
  expectError(lines('app: hello', 'service:', '  comand: node server.js', 'environments: {p: }'), 'spec.unknown_key', '3:3',
    'unknown key "comand" under "service"', /did you mean "command"/);
});

test('unknown key: deep paths are named in full', () => {
  expectError(withEnv('    strategy:', '      rolling: {surge: 2}'), 'spec.unknown_key', '6:17',
    'unknown key "surge" under "environments.p.strategy.rolling"', 'allowed keys under "environments.p.strategy.rolling": max_surge, max_unavailable');
  expectError(withService('  health:', '    path: /', '    retries: 3'), 'spec.unknown_key', '6:5', 'unknown key "retries" under "service.health"');
  expectError(withEnv('    aproval: true'), 'spec.unknown_key', '5:5', 'unknown key "aproval" under "environments.p"', /did you mean "approval"/);
  expectError(withTop('artifact: {include: [a], exclude: [b]}'), 'spec.unknown_key', '6:26', 'unknown key "exclude" under "artifact"');
});

test('unknown key: in a step, with a hint about unquoted colons', () => {
  expectError(withTop('build:', '  - npm ci', '  - echo step: done'), 'spec.unknown_key', '8:5', 'unknown key "echo step" under "build[1]"',
    /name, run, timeout\. A command containing ": " must be quoted/);
  expectError(withTop('test:', '  - {run: a, retries: 2}'), 'spec.unknown_key', '7:14', 'unknown key "retries" under "test[0]"');
});

test('unknown key: YAML merge keys are not supported and say so', () => {
  expectError(lines('app: hello', 'service:', '  command: x', 'environments:', '  a: &base {approval: true}', '  b:', '    <<: *base'),
    'spec.unknown_key', '7:5', 'unknown key "<<" under "environments.b"', /merge keys \(<<\) are not supported/);
});

// ---- spec.type ----

test('type: says what was expected and what was found', () => {
  expectError(withService('  instances: two'), 'spec.type', '4:14', 'service.instances: expected an integer, got a string "two"', 'use an integer from 1 to 100');
  expectError(withService('  instances: "2"'), 'spec.type', '4:14', 'service.instances: expected an integer, got a string "2"', /^remove the quotes/);
  expectError(withService('  instances: 2.5'), 'spec.type', '4:14', 'service.instances: expected an integer, got a number 2.5');
  expectError(withService('  instances: [2]'), 'spec.type', '4:14', 'service.instances: expected an integer, got a list');
  expectError(withEnv('    approval: yes'), 'spec.type', '5:15', 'environments.p.approval: expected a boolean, got a string "yes"', 'write true or false');
  expectError(withEnv('    instances: {n: 1}'), 'spec.type', '5:16', 'environments.p.instances: expected an integer, got a mapping');
  expectError(lines('app: 42', 'service: {command: x}', 'environments: {p: }'), 'spec.type', '1:6', 'app: expected a string, got an integer 42');
  expectError(lines('app: hello', 'service: {command: true}', 'environments: {p: }'), 'spec.type', '2:20', 'service.command: expected a string, got a boolean true');
});

test('type: an empty value points at its key', () => {
  expectError(lines('app: hello', 'service:', 'environments: {p: }'), 'spec.type', '2:1', 'service: expected a mapping, got nothing', /command: node server.js/);
  expectError(withService('  instances:'), 'spec.type', '4:3', 'service.instances: expected an integer, got nothing');
  expectError(withService('  instances: ~'), 'spec.type', '4:14', 'service.instances: expected an integer, got null');
  expectError(lines('app:', 'service: {command: x}', 'environments: {p: }'), 'spec.type', '1:1', 'app: expected a string, got nothing');
});

test('type: sections of the wrong shape', () => {
  expectError(lines('app: hello', 'service: node server.js', 'environments: {p: }'), 'spec.type', '2:10', 'service: expected a mapping, got a string "node server.js"');
  expectError(withTop('build: npm ci'), 'spec.type', '6:8', 'build: expected a list, got a string "npm ci"', /- npm ci/);
  expectError(withTop('test: {run: npm test}'), 'spec.type', '6:7', 'test: expected a list, got a mapping');
  expectError(withTop('build:', '  - 42'), 'spec.type', '7:5', 'build[0]: expected a command string or a mapping with "run", got an integer 42');
  expectError(withTop('build:', '  - [npm, ci]'), 'spec.type', '7:5', 'build[0]: expected a command string or a mapping with "run", got a list');
  expectError(withTop('artifact: [dist]'), 'spec.type', '6:11', 'artifact: expected a mapping, got a list');
  expectError(withTop('artifact: {include: dist}'), 'spec.type', '6:21', 'artifact.include: expected a list, got a string "dist"', 'write include: [dist]');
  expectError(lines('app: hello', 'service: {command: x}', 'environments: [staging, production]'), 'spec.type', '3:15',
    'environments: expected a mapping, got a list', /mapping from name to settings, in promotion order/);
  expectError(withEnv('    strategy: rolling'), 'spec.type', '5:15', 'environments.p.strategy: expected a mapping, got a string "rolling"', /rolling: \{max_surge/);
  expectError(withEnv('    strategy: {rolling: [1]}'), 'spec.type', '5:25', 'environments.p.strategy.rolling: expected a mapping, got a list');
  expectError(withService('  health: /healthz'), 'spec.type', '4:11', 'service.health: expected a mapping, got a string "/healthz"');
});

test('type: env values must be scalars; an empty one suggests ""', () => {
  expectError(withService('  env:', '    LIST: [a, b]'), 'spec.type', '5:11', 'service.env.LIST: expected a string, got a list');
  expectError(withService('  env:', '    EMPTY:'), 'spec.type', '5:5', 'service.env.EMPTY: expected a string, got nothing', 'write EMPTY: "" for an empty value');
  expectError(withService('  env: [A=1]'), 'spec.type', '4:8', 'service.env: expected a mapping, got a list', /env: \{LOG_LEVEL: info\}/);
});

test('type: keys must be plain scalars', () => {
  expectError(withTop('? [a, b]', ': x'), 'spec.type', '6:3', 'expected a plain key at the top level, got a list');
});

test('type: a duration of the wrong type', () => {
  expectError(withService('  drain_timeout: [30s]'), 'spec.type', '4:18', 'service.drain_timeout: expected a duration such as "30s", got a list', /500ms, 2s, 1m, 1h/);
  expectError(withService('  stop_grace: true'), 'spec.type', '4:15', 'service.stop_grace: expected a duration such as "30s", got a boolean true');
});

// ---- spec.missing ----

test('missing: a required top-level key points at the top-level mapping', () => {
  expectError(lines('# my app', 'service: {command: x}', 'environments: {p: }'), 'spec.missing', '2:1', 'missing required key "app" at the top level', /app: hello/);
  expectError(lines('app: hello', 'environments: {p: }'), 'spec.missing', '1:1', 'missing required key "service" at the top level');
  expectError(lines('app: hello', 'service: {command: x}'), 'spec.missing', '1:1', 'missing required key "environments" at the top level', /staging: \{\}/);
});

test('missing: a required nested key points at its parent mapping', () => {
  expectError(lines('app: hello', 'service:', '  instances: 2', 'environments: {p: }'), 'spec.missing', '3:3',
    'missing required key "command" under "service"', /command: node server.js/);
  expectError(lines('app: hello', 'service: {instances: 2}', 'environments: {p: }'), 'spec.missing', '2:10', 'missing required key "command" under "service"');
  expectError(withTop('build:', '  - name: compile', '    timeout: 5m'), 'spec.missing', '7:5', 'missing required key "run" under "build[0]"', 'add run: <command>');
  expectError(withTop('artifact: {}'), 'spec.missing', '6:11', 'missing required key "include" under "artifact"', /remove artifact:/);
});

// ---- spec.value ----

test('value: app and environment names', () => {
  const app = (name: string) => lines(`app: ${name}`, 'service: {command: x}', 'environments: {p: }');
  expectError(app('Hello'), 'spec.value', '1:6', 'app: "Hello" is not a valid app name', /lowercase letters, digits and "-".*at most 40/);
  expectError(app('1app'), 'spec.value', '1:6', 'app: "1app" is not a valid app name');
  expectError(app('my_app'), 'spec.value', '1:6', 'app: "my_app" is not a valid app name');
  expectError(app('a'.repeat(41)), 'spec.value', '1:6', `app: "${'a'.repeat(41)}" is not a valid app name`);
  expectError(app('"  "'), 'spec.value', '1:6', 'app: must not be empty');
  const env = (name: string) => lines('app: hello', 'service: {command: x}', 'environments:', '  staging: {}', `  ${name}: {}`);
  expectError(env('Prod'), 'spec.value', '5:3', 'environments: "Prod" is not a valid environment name', /at most 30 characters/);
  expectError(env('e'.repeat(31)), 'spec.value', '5:3', `environments: "${'e'.repeat(31)}" is not a valid environment name`);
  expectError(env('123'), 'spec.value', '5:3', 'environments: "123" is not a valid environment name');
  expectError(env('feature-preview'), 'spec.value', '5:3', 'environments: "feature-preview" ends in "-preview", which is reserved', /preview deploys/);
});

test('value: environments must not be empty', () => {
  expectError(lines('app: hello', 'service: {command: x}', 'environments: {}'), 'spec.value', '3:15', 'environments: define at least one environment', /staging: \{\}/);
  expectError(lines('app: hello', 'service: {command: x}', 'environments:'), 'spec.value', '3:1', 'environments: define at least one environment');
});

test('value: integers out of range', () => {
  expectError(withService('  instances: 0'), 'spec.value', '4:14', 'service.instances: 0 is out of range', 'use an integer from 1 to 100');
  expectError(withService('  instances: 101'), 'spec.value', '4:14', 'service.instances: 101 is out of range');
  expectError(withEnv('    instances: -1'), 'spec.value', '5:16', 'environments.p.instances: -1 is out of range');
  expectError(withEnv('    strategy: {rolling: {max_surge: -1}}'), 'spec.value', '5:37', 'environments.p.strategy.rolling.max_surge: -1 is out of range', 'use an integer from 0 to 100');
});

test('value: durations — a bare number needs a unit; bad text; zero; too long', () => {
  expectError(withService('  drain_timeout: 30'), 'spec.value', '4:18', 'service.drain_timeout: 30 has no unit', 'durations need a unit, e.g. 30s or 30ms (units: ms, s, m, h)');
  expectError(withService('  drain_timeout: "30"'), 'spec.value', '4:18', 'service.drain_timeout: "30" has no unit', /e\.g\. 30s/);
  expectError(withService('  health: {timeout: 2.5}'), 'spec.value', '4:21', 'service.health.timeout: 2.5 has no unit', /2\.5s/);
  expectError(withService('  stop_grace: soon'), 'spec.value', '4:15', 'service.stop_grace: "soon" is not a duration', /500ms, 2s, 1m, 1h/);
  expectError(withService('  stop_grace: 10 s'), 'spec.value', '4:15', 'service.stop_grace: "10 s" is not a duration');
  expectError(withService('  health: {interval: 0s}'), 'spec.value', '4:22', 'service.health.interval: must be greater than 0');
  expectError(withService('  health: {deadline: 2d}'), 'spec.value', '4:22', 'service.health.deadline: "2d" is longer than the maximum of 24h', 'use at most 24h');
  expectError(withTop('build:', '  - {run: make, timeout: 0ms}'), 'spec.value', '7:26', 'build[0].timeout: must be greater than 0');
  expectError(withTop('test:', '  - {run: make, timeout: 5}'), 'spec.value', '7:26', 'test[0].timeout: 5 has no unit');
});

test('value: health path', () => {
  expectError(withService('  health: {path: healthz}'), 'spec.value', '4:18', 'service.health.path: "healthz" is not a URL path', /starting with "\/"/);
  expectError(withService('  health: {path: "/health z"}'), 'spec.value', '4:18', 'service.health.path: "/health z" is not a URL path');
});

test('value: strategies — unknown name, not exactly one, a rollout that cannot progress', () => {
  expectError(withEnv('    strategy:', '      linear: {steps: [10, 50]}'), 'spec.value', '6:7', 'environments.p.strategy: unknown strategy "linear"', 'allowed strategies: rolling, blue_green, canary');
  expectError(withEnv('    strategy: {}'), 'spec.value', '5:15', 'environments.p.strategy: must name exactly one strategy, got 0', /write exactly one of: rolling, blue_green, canary/);
  // A block for a strategy that is not the one chosen: two blocks are never silently merged.
  expectError(withEnv('    strategy: {canary: {steps: [5]}, rolling: {}}'), 'spec.value', '5:15', 'environments.p.strategy: must name exactly one strategy, got 2');
  expectError(withEnv('    strategy: {rolling: {}, blue-green: {}}'), 'spec.value', '5:15', 'environments.p.strategy: must name exactly one strategy, got 2');
  expectError(withEnv('    strategy:', '      rolling: {max_surge: 0, max_unavailable: 0}'), 'spec.value', '6:16',
    'environments.p.strategy.rolling: max_surge and max_unavailable are both 0, so a rollout could never make progress', /max_surge: 1/);
  // max_unavailable defaults to 0, so max_surge: 0 alone is the same dead end.
  expectError(withEnv('    strategy: {rolling: {max_surge: 0}}'), 'spec.value', '5:25', /both 0/);
});

test('value: canary and blue/green settings', () => {
  const canary = (body: string) => withEnv('    strategy:', `      canary: ${body}`);
  expectError(canary('{steps: [25, 5]}'), 'spec.value', '6:28', 'environments.p.strategy.canary.steps[1]: 5 does not increase on the step before it (25)', /increasing percentages/);
  expectError(canary('{steps: [5, 5]}'), 'spec.value', '6:27', /does not increase/);
  expectError(canary('{steps: [0, 50]}'), 'spec.value', '6:24', 'environments.p.strategy.canary.steps[0]: 0 is out of range', 'use an integer from 1 to 99');
  expectError(canary('{steps: [10, 100], baseline: false}'), 'spec.value', '6:28', 'environments.p.strategy.canary.steps[1]: 100 is out of range');
  expectError(canary('{steps: [10, 60]}'), 'spec.value', '6:28', /60% with a baseline of the same size leaves -20% for the stable release/);
  expectError(canary('{steps: []}'), 'spec.value', '6:23', /needs at least one step/);
  expectError(canary('{}'), 'spec.missing', '6:15', /steps/);
  expectError(canary('{steps: [5], analysis: {metrics: [error_rate, cpu]}}'), 'spec.value', '6:61', 'environments.p.strategy.canary.analysis.metrics[1]: unknown metric "cpu"', 'known metrics: error_rate, latency_p50, latency_p99');
  expectError(canary('{steps: [5], analysis: {confidence: 2}}'), 'spec.value', '6:51', /confidence: 2 is out of range/);
  expectError(canary('{steps: [5], step_duration: 10s, analysis: {interval: 1m}}'), 'spec.value', '6:69', /longer than step_duration/);
  expectError(canary('{steps: [5], colour: red}'), 'spec.unknown_key', '6:28', /unknown key "colour"/);
  expectError(withEnv('    strategy:', '      blue_green: {preview: maybe}'), 'spec.type', '6:29', /expected a boolean/);
});

test('canary and blue/green parse with defaults', () => {
  const spec = parseSpec(withEnv('    strategy:', '      canary: {steps: [5, 25, 50], analysis: {metrics: [error_rate], max_error_rate: 0.05}, match: [{header: X-Beta, value: 1}]}'));
  assert.deepEqual(spec.environments[0]?.strategy, {
    kind: 'canary', steps: [5, 25, 50], stepDurationMs: 60_000, baseline: true, probationMs: 300_000, match: [{ header: 'x-beta', value: '1' }],
    analysis: { metrics: ['error_rate'], confidence: 0.98, tolerance: 0.25, intervalMs: 20_000, minRequests: 50, maxErrorRate: 0.05 },
  });
  assert.deepEqual(parseSpec(withEnv('    strategy: {blue_green: {preview: true, probation: 2m}}')).environments[0]?.strategy, { kind: 'blue_green', preview: true, probationMs: 120_000 });
});

test('value: artifact include paths', () => {
  const include = (list: string) => withTop(`artifact: {include: ${list}}`);
  expectError(include('[]'), 'spec.value', '6:21', 'artifact.include: must list at least one path', /remove artifact:/);
  expectError(include('[dist, /etc/passwd]'), 'spec.value', '6:28', 'artifact.include[1]: "/etc/passwd" is an absolute path', /relative to the repository root/);
  expectError(include('["C:/app"]'), 'spec.value', '6:22', 'artifact.include[0]: "C:/app" is an absolute path');
  expectError(include('[../secrets]'), 'spec.value', '6:22', 'artifact.include[0]: "../secrets" leaves the repository (".." is not allowed)');
  expectError(include('[dist/../../x]'), 'spec.value', '6:22', 'artifact.include[0]: "dist/../../x" leaves the repository (".." is not allowed)');
  expectError(include('["dist\\\\app"]'), 'spec.value', '6:22', 'artifact.include[0]: "dist\\\\app" contains "\\"', /use "\/"/);
  expectError(include('["dist/*.js"]'), 'spec.value', '6:22', 'artifact.include[0]: "dist/*.js" looks like a glob pattern', /globs are not supported/);
  expectError(include('[.]'), 'spec.value', '6:22', 'artifact.include[0]: "." is the whole checkout', /remove artifact:/);
  expectError(include('[dist, ./dist/]'), 'spec.value', '6:28', 'artifact.include[1]: "dist" is listed twice');
  expectError(include('[""]'), 'spec.value', '6:22', 'artifact.include[0]: must not be empty');
});

test('value: env variable names', () => {
  expectError(withService('  env: {1PORT: x}'), 'spec.value', '4:9', 'service.env: "1PORT" is not a valid variable name', /LOG_LEVEL/);
  expectError(withEnv('    env: {MY-VAR: x}'), 'spec.value', '5:11', 'environments.p.env: "MY-VAR" is not a valid variable name');
});

test('value: commands and step names', () => {
  expectError(lines('app: hello', 'service: {command: ""}', 'environments: {p: }'), 'spec.value', '2:20', 'service.command: must not be empty');
  expectError(withTop('build:', '  - "  "'), 'spec.value', '7:5', 'build[0]: must not be empty');
  expectError(withTop('build:', '  - {name: x, run: a}', 'test:', '  - {name: x, run: b}'), 'spec.value', '9:12', 'duplicate step name "x"', /unique across build and test/);
  expectError(withTop('build:', '  - {name: "a\\nb", run: a}'), 'spec.value', '7:12', 'build[0].name: must be a single line');
});

// ---- the error object itself ----

test('errors carry the file name given, a 400 status and the position in details', () => {
  const error = errorOf(lines('app: hello', 'service:', '  command: x', '  colour: red', 'environments: {p: }'), 'apps/web/slipway.yaml');
  assert.equal(error.message, 'apps/web/slipway.yaml:4:3: unknown key "colour" under "service"');
  assert.equal(error.status, 400);
  assert.deepEqual(error.details, { file: 'apps/web/slipway.yaml', line: 4, column: 3 });
  assert.equal(error.toJSON().code, 'spec.unknown_key');
});

test('a one-line file without a trailing newline still reports line 1', () => {
  expectError('app: hello', 'spec.missing', '1:1', 'missing required key "service" at the top level');
  expectError('app: Hello', 'spec.value', '1:6', 'app: "Hello" is not a valid app name');
});
