import assert from 'node:assert/strict';
import test from 'node:test';
import { ChunkedDecoder } from '../../src/router/upstream/chunked.ts';
import { headEnd, MalformedResponse, parseResponseHead } from '../../src/router/upstream/head.ts';
import { requestHead } from '../../src/router/request-head.ts';

const head = (lines: string[], method = 'GET') => parseResponseHead(lines.join('\r\n'), method);

test('response head: status, reason, fields in order, and how the body is delimited', () => {
  const h = head(['HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length:  12 ', 'Set-Cookie: a=1', 'Set-Cookie: b=2']);
  assert.equal(h.status, 200);
  assert.equal(h.reason, 'OK');
  assert.deepEqual(h.fields, ['Content-Type', 'text/plain', 'Content-Length', '12', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  assert.equal(h.framing, 'length');
  assert.equal(h.length, 12);
  assert.equal(h.close, false);
  // Hop-by-hop fields, and a release header the backend set, never reach the client.
  const dropped = head(['HTTP/1.1 200 OK', 'Connection: keep-alive', 'Keep-Alive: timeout=5', 'TE: trailers', 'Trailer: x', 'Upgrade: h2c', 'Proxy-Connection: x', 'X-Slipway-Release: fake', 'Content-Length: 0', 'X-Kept: 1']);
  assert.deepEqual(dropped.fields, ['Content-Length', '0', 'X-Kept', '1']);

  // Chunked wins over a length, and neither field is passed on: node:http frames the body anew.
  const both = head(['HTTP/1.1 200 OK', 'Transfer-Encoding: Chunked', 'Content-Length: 5', 'X-A: 1']);
  assert.equal(both.framing, 'chunked');
  assert.deepEqual(both.fields, ['X-A', '1']);
  // The same length twice is passed on once.
  assert.deepEqual(head(['HTTP/1.1 200 OK', 'Content-Length: 3', 'content-length: 3']).fields, ['Content-Length', '3']);
  assert.deepEqual(head(['HTTP/1.1 200 OK']).framing, 'close');
  assert.deepEqual(head(['HTTP/1.1 200 OK', 'Content-Length: 0']).framing, 'none');
  // No body whatever the fields say: HEAD, 204, 304, 1xx.
  assert.deepEqual(head(['HTTP/1.1 200 OK', 'Content-Length: 40'], 'HEAD').framing, 'none');
  assert.deepEqual(head(['HTTP/1.1 204 No Content']).framing, 'none');
  assert.deepEqual(head(['HTTP/1.1 304 Not Modified', 'Content-Length: 40']).framing, 'none');
  assert.deepEqual(head(['HTTP/1.1 100 Continue']).framing, 'none');
  assert.equal(head(['HTTP/1.1 418']).reason, '');
  // Only spaces and tabs are trimmed: a latin1 non-breaking space is part of the value.
  assert.deepEqual(head(['HTTP/1.1 200 OK', 'X-A: \t v\xa0 ', 'X-Empty:']).fields, ['X-A', 'v\xa0', 'X-Empty', '']);
});

test('response head: who closes the connection', () => {
  assert.equal(head(['HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 1']).close, true);
  assert.equal(head(['HTTP/1.1 200 OK', 'Connection: keep-alive, Close', 'Content-Length: 1']).close, true);
  assert.equal(head(['HTTP/1.0 200 OK', 'Content-Length: 1']).close, true);
  assert.equal(head(['HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 1']).close, false);
  assert.equal(head(['HTTP/1.1 200 OK', 'Connection: closed-captions', 'Content-Length: 1']).close, false);
});

test('response head: anything node:http would refuse to send on is rejected, not passed on', () => {
  const bad = [
    ['HTTP/2 200 OK'],
    ['HTTP/1.1 20 OK'],
    ['HTTP/1.1 200 OK\x01'],
    ['ICY 200 OK'],
    ['HTTP/1.1 200 OK', 'Bad Name: x'],
    ['HTTP/1.1 200 OK', ': no name'],
    ['HTTP/1.1 200 OK', 'no-colon'],
    ['HTTP/1.1 200 OK', ' folded: line'],
    ['HTTP/1.1 200OK'],
    ['HTTP/1.1 2x0 OK'],
    ['HTTP/1.2 200 OK'],
    ['HTTP/1.1 200 OK', 'X-Bare-LF: a\nb'],
    ['HTTP/1.1 200 OK', 'X-Nul: a\x00b'],
    ['HTTP/1.1 200 OK', 'Content-Length: -1'],
    ['HTTP/1.1 200 OK', 'Content-Length: 1, 2'],
    ['HTTP/1.1 200 OK', 'Content-Length: 3', 'Content-Length: 4'],
    // Transfer codings other than plain chunked would reach the client undeclared.
    ['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'],
    ['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked'],
    ['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
  ];
  for (const lines of bad) assert.throws(() => head(lines), MalformedResponse, JSON.stringify(lines));
  // The same length twice is allowed (RFC 9112 §6.3).
  assert.deepEqual(head(['HTTP/1.1 200 OK', 'Content-Length: 3', 'Content-Length: 3']).framing, 'length');
});

/** Feeds `wire` to a decoder in pieces of `size` bytes; returns the body and what came after it. */
function decode(wire: string, size: number): { body: string; rest: string; done: boolean } {
  const d = new ChunkedDecoder();
  const buf = Buffer.from(wire, 'latin1');
  let body = '';
  for (let at = 0; at < buf.length; at += size) {
    const piece = buf.subarray(at, Math.min(buf.length, at + size));
    const end = d.push(piece, 0, (data) => { body += data.toString('latin1'); });
    if (end !== -1) return { body, rest: piece.subarray(end).toString('latin1') + buf.subarray(at + size).toString('latin1'), done: d.done };
  }
  return { body, rest: '', done: d.done };
}

test('chunked bodies decode the same however the bytes are split, extensions and trailers dropped', () => {
  const wire = '5\r\nhello\r\n1;ext=1\r\n,\r\n10\r\n world, 16 bytes\r\n0\r\nX-Trailer: t\r\n\r\nNEXT';
  for (const size of [1, 2, 3, 7, 64, 1000]) {
    assert.deepEqual(decode(wire, size), { body: 'hello, world, 16 bytes', rest: 'NEXT', done: true }, `pieces of ${size}`);
  }
  assert.deepEqual(decode('A\r\n0123456789\r\n', 4), { body: '0123456789', rest: '', done: false });
});

test('chunked bodies: bad sizes, missing CRLFs and endless lines are malformed', () => {
  for (const wire of ['zz\r\nhi\r\n0\r\n\r\n', '2\r\nhello\r\n0\r\n\r\n', '2\nhi\r\n0\r\n\r\n', '-1\r\n', `1;${'x'.repeat(9000)}\r\n`]) {
    assert.throws(() => decode(wire, 5), MalformedResponse, JSON.stringify(wire.slice(0, 20)));
  }
});

test('request head: hop-by-hop and router-owned fields replaced, the rest kept in order, body framing read', () => {
  const raw = ['Host', 'Hello.Staging.localhost:8080', 'Accept', '*/*', 'Connection', 'keep-alive', 'X-Forwarded-For', '10.0.0.1', 'Expect', '100-continue', 'Content-Length', '3', 'X-Forwarded-Proto', 'https', 'Cookie', 'a=1'];
  const h = requestHead('POST', '/a?b=1', raw, '127.0.0.1');
  assert.equal(h.host, 'Hello.Staging.localhost:8080');
  assert.equal(h.body, 'length');
  assert.equal(h.text, [
    'POST /a?b=1 HTTP/1.1',
    'host: Hello.Staging.localhost:8080',
    'Accept: */*',
    'Content-Length: 3',
    'Cookie: a=1',
    'x-forwarded-for: 10.0.0.1, 127.0.0.1',
    'x-forwarded-host: Hello.Staging.localhost:8080',
    'x-forwarded-proto: http',
    '', '',
  ].join('\r\n'));
  assert.equal(requestHead('GET', '/', ['Content-Length', '0'], '::1').body, 'none');
  assert.equal(requestHead('POST', '/', ['Transfer-Encoding', 'chunked'], '::1').body, 'chunked');
  assert.equal(requestHead('GET', '/', [], '::1').host, '');
});

test('response head boundary: found from any offset, awaited while partial, refused past 64 KiB', () => {
  const wire = Buffer.from('xxHTTP/1.1 200 OK\r\nA: 1\r\n\r\nbody');
  assert.equal(headEnd(wire, 2), wire.indexOf('\r\n\r\n'));
  assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\r\nA: 1\r\n'), 0), -1);
  assert.throws(() => headEnd(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`), 0), MalformedResponse);
  assert.throws(() => headEnd(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`), 0), MalformedResponse);
});
