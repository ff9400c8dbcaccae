// shared/net/http.ts against real sockets: a node:net server that answers exactly the bytes a test
// gives it (Content-Length, chunked, close-delimited, malformed, silent), and what it was sent.
import test from 'ava';
import { createServer, type Socket } from 'node:net';
import { decodeChunked, getJson, httpRequest, jsonBody, parseResponse, postJson } from '../../shared/net/http.ts';

interface Server {
  readonly url: string;
  readonly requests: string[];
}

/** A server that answers each connection with `answer` (or stays silent) and closes if told. */
async function server(t: import('ava').ExecutionContext, answer: string | undefined, closeAfter = true): Promise<Server> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const srv = createServer((socket) => {
    sockets.add(socket);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      received += text;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
      if (Buffer.byteLength(received.slice(end + 4)) < length) return;
      requests.push(received);
      if (answer === undefined) return;
      socket.write(answer);
      if (closeAfter) socket.end();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    srv.close();
  });
  const address = srv.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, requests };
}

test('GET with Content-Length: status, lower-case headers, body; the request is HTTP/1.1 with Connection: close', async (t) => {
  const body = '{"version": {"id": "v3.14", "note": "é"}}';
  const s = await server(t, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-A: 1\r\nX-A: 2\r\n\r\n${body}`, false);
  const response = await getJson(`${s.url}/v3`, 2000);
  t.is(response.status, 200);
  t.is(response.headers['content-type'], 'application/json');
  t.is(response.headers['x-a'], '1, 2');
  t.deepEqual(jsonBody(response), { version: { id: 'v3.14', note: 'é' } });
  t.regex(s.requests[0]!, /^GET \/v3 HTTP\/1\.1\r\n/);
  t.regex(s.requests[0]!, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  t.regex(s.requests[0]!, /\r\nConnection: close\r\n/);
});

test('POST sends JSON with its byte length; a chunked answer is decoded', async (t) => {
  const s = await server(t, 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Subject-Token: abc\r\n\r\n4\r\n{"a"\r\n6;ext=1\r\n: "é"\r\n1\r\n}\r\n0\r\n\r\n');
  const response = await postJson(`${s.url}/v3/auth/tokens`, { password: 'pässword' }, 2000);
  t.is(response.status, 201);
  t.is(response.headers['x-subject-token'], 'abc');
  t.deepEqual(jsonBody(response), { a: 'é' });
  const request = s.requests[0]!;
  const sent = request.slice(request.indexOf('\r\n\r\n') + 4);
  t.is(sent, '{"password":"pässword"}');
  t.regex(request, new RegExp(`Content-Length: ${Buffer.byteLength(sent)}\\r\\n`));
  t.regex(request, /Content-Type: application\/json/);
});

test('a body without length ends with the connection; 100 Continue is skipped', async (t) => {
  const s = await server(t, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 401 Unauthorized\r\n\r\n{"error": {"message": "no"}}');
  const response = await getJson(s.url, 2000);
  t.is(response.status, 401);
  t.is(response.body, '{"error": {"message": "no"}}');
});

test('a silent server: rejected within the bound; refused and malformed answers give short reasons', async (t) => {
  const silent = await server(t, undefined);
  const started = Date.now();
  await t.throwsAsync(getJson(silent.url, 300), { message: 'no answer within 300 ms' });
  t.true(Date.now() - started < 1500);
  const garbage = await server(t, 'SSH-2.0-OpenSSH_9.2\r\n\r\n');
  await t.throwsAsync(getJson(garbage.url, 2000), { message: /^not an HTTP answer: SSH-2\.0/ });
  const truncated = await server(t, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort');
  await t.throwsAsync(getJson(truncated.url, 2000), { message: 'connection closed before a complete answer' });
  // Port 1 (tcpmux) has no listener here; a just-released ephemeral port may be taken by a concurrent test.
  await t.throwsAsync(getJson('http://127.0.0.1:1/', 2000), { message: 'connection refused' });
});

test('https and other schemes are refused; header values cannot smuggle lines', async (t) => {
  await t.throwsAsync(getJson('https://127.0.0.1:5000/v3', 1000), { message: /https is not supported/ });
  await t.throwsAsync(getJson('ftp://127.0.0.1/', 1000), { message: /only http URLs/ });
  await t.throwsAsync(getJson('not a url', 1000), { message: /is not a URL/ });
  await t.throwsAsync(httpRequest({ url: 'http://127.0.0.1:9/', headers: { 'X-A': 'b\r\nEvil: 1' }, timeoutMs: 1000 }), { message: /line break/ });
});

test('parseResponse and decodeChunked wait for the whole answer', (t) => {
  t.is(parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n', false), undefined);
  t.is(parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', false), undefined);
  t.is(parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde', false)?.body, 'abcde');
  t.is(parseResponse('HTTP/1.1 204 No Content\r\n\r\n', false)?.body, '');
  t.is(parseResponse('HTTP/1.1 200 OK\r\n\r\npartial', false), undefined);
  t.is(parseResponse('HTTP/1.1 200 OK\r\n\r\npartial', true)?.body, 'partial');
  t.is(decodeChunked('3\r\nabc\r\n'), undefined);
  t.is(decodeChunked('3\r\nabc\r\n0\r\n'), undefined);
  t.is(decodeChunked('3\r\nabc\r\n0\r\n\r\n'), 'abc');
  t.is(decodeChunked('3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n'), 'abc');
  t.throws(() => decodeChunked('zz\r\n'), { message: /bad chunk size/ });
});
