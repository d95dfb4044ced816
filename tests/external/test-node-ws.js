#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// The real supersoniq-server seen by Node's `ws` package (npm, v8) and
// Node 20's fetch: two users register, open WebSocket sessions and talk;
// welcome, ack, message, typing, presence, errors, ws.ping() and the close
// handshake. TAP on stdout. Skipped (1..0 # SKIP) without the ws module:
//   npm install --prefix tests/external/node ws@8 --no-audit --no-fund
//
// The server is node-harness.js's. Every wait has a deadline.
'use strict';

const H = require('./node-harness');
const { WAIT, Fail, check } = H;

const WebSocket = H.requireNpm('ws', 'ws@8');

H.guard('ssq-ext-node-');

let base;

function api(method, route, body, token) {
  return H.api(base, method, route, body, token);
}

// A WebSocket client with a queue of received JSON frames, each stamped
// with its arrival order; expect() takes the first matching one.
class Client {
  constructor(name, ws) {
    this.name = name;
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.n = 0;
    this.closed = null;
    this.pongs = [];
    ws.on('message', (data, isBinary) => {
      let f;
      try {
        f = JSON.parse(data.toString('utf8'));
      } catch (e) {
        f = { type: '<not JSON>', raw: String(data).slice(0, 80) };
      }
      if (isBinary) f = { type: '<binary>' };
      f._n = this.n++;
      this.frames.push(f);
      this.wake();
    });
    ws.on('pong', (data) => { this.pongs.push(Buffer.from(data)); this.wake(); });
    ws.on('close', (code, reason) => { this.closed = { code, reason: String(reason) }; this.wake(); });
    ws.on('error', (e) => { this.error = e; this.wake(); });
  }

  static connect(name, token, how = 'header') {
    const url = base.replace(/^http/, 'ws') + '/api/v1/ws' +
      (how === 'query' ? `?access_token=${encodeURIComponent(token)}` : '');
    const opts = { handshakeTimeout: WAIT, perMessageDeflate: false };
    if (how === 'header') opts.headers = { Authorization: `Bearer ${token}` };
    const ws = new WebSocket(url, opts);
    const client = new Client(name, ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (req, res) => {
        reject(new Fail(`${name}: upgrade answered ${res.statusCode}`));
        ws.terminate();
      });
      ws.once('error', (e) => reject(e));
    });
  }

  send(obj) { this.ws.send(JSON.stringify(obj)); }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // Resolves when test() returns something other than undefined.
  waitFor(test, what, timeoutMs = WAIT) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== poll);
        reject(new Fail(`${this.name}: no ${what} within ${timeoutMs / 1000} s; ` +
          `waiting frames: ${JSON.stringify(this.frames.map((f) => f.type))}` +
          (this.closed ? `; closed ${this.closed.code}` : '')));
      }, timeoutMs);
      const poll = () => {
        let r;
        try {
          r = test();
        } catch (e) {
          clearTimeout(t);
          return reject(e);
        }
        if (r !== undefined) {
          clearTimeout(t);
          resolve(r);
        } else {
          this.waiters.push(poll);
        }
      };
      poll();
    });
  }

  expect(pred, what, timeoutMs = WAIT) {
    return this.waitFor(() => {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.closed) throw new Fail(`${this.name}: closed (${this.closed.code}) waiting for ${what}`);
      return undefined;
    }, what, timeoutMs);
  }

  expectType(type, fields = {}, timeoutMs = WAIT) {
    return this.expect((f) => f.type === type &&
      Object.entries(fields).every(([k, v]) => f[k] === v),
    `${type} ${JSON.stringify(fields)}`, timeoutMs);
  }

  // True if no frame matching pred arrives within ms.
  async nothing(pred, ms) {
    try {
      await this.expect(pred, 'nothing', ms);
      return false;
    } catch (e) {
      if (e instanceof Fail && /no nothing/.test(e.message)) return true;
      throw e;
    }
  }
}

// ---------------------------------------------------------------------------
// The tests

const S = {};
const clients = [];

const TESTS = [
  ['fetch: register alice and bob (201, token)', async () => {
    for (const name of ['alice', 'bob']) {
      const r = await api('POST', '/api/v1/register', { username: name, password: `correct horse ${name}` });
      check(r.status === 201, `register ${name}: ${r.status} ${r.text}`);
      check(typeof r.json.token === 'string' && r.json.token.length > 0, 'token');
      check(r.json.user.username === name, `user ${JSON.stringify(r.json.user)}`);
      S[name] = { token: r.json.token, id: r.json.user.id };
    }
  }],

  ['fetch: direct conversation alice-bob', async () => {
    const r = await api('POST', '/api/v1/conversations', { kind: 'direct', members: ['bob'] }, S.alice.token);
    check(r.status === 201 || r.status === 200, `create: ${r.status} ${r.text}`);
    S.conv = r.json.conversation.id;
    check(r.json.conversation.members.length === 2, 'two members');
  }],

  ['ws: a bad token is refused with 401', async () => {
    try {
      const c = await Client.connect('bad', 'not-a-token', 'query');
      c.ws.terminate();
    } catch (e) {
      check(/answered 401/.test(e.message), e.message);
      return;
    }
    throw new Fail('upgrade accepted with a bad token');
  }],

  ['ws: welcome for alice (Authorization header) and bob (?access_token)', async () => {
    S.wa = await Client.connect('alice', S.alice.token, 'header');
    clients.push(S.wa);
    let w = await S.wa.expectType('welcome');
    check(w.user.id === S.alice.id && w.user.presence === 'online', `welcome user ${JSON.stringify(w.user)}`);
    check(w.protocol === 1 && typeof w.session_id === 'string' && w.server_time > 0, `welcome ${JSON.stringify(w)}`);
    S.wb = await Client.connect('bob', S.bob.token, 'query');
    clients.push(S.wb);
    w = await S.wb.expectType('welcome');
    check(w.user.id === S.bob.id, `welcome user ${JSON.stringify(w.user)}`);
  }],

  ['ws: presence online of bob reaches alice', async () => {
    const p = await S.wa.expectType('presence', { user: S.bob.id });
    check(p.status === 'online', `presence ${JSON.stringify(p)}`);
  }],

  ['ws: presence away and back', async () => {
    S.wb.send({ type: 'presence', status: 'away', id: 'p1' });
    const ack = await S.wb.expect((f) => (f.type === 'ack' || f.type === 'error') && f.id === 'p1', 'presence ack');
    check(ack.type === 'ack', `presence answer ${JSON.stringify(ack)}`);
    let p = await S.wa.expectType('presence', { user: S.bob.id, status: 'away' });
    S.wb.send({ type: 'presence', status: 'online' });
    p = await S.wa.expectType('presence', { user: S.bob.id, status: 'online' });
    check(p.user === S.bob.id, 'user');
  }],

  ['ws: typing reaches the other member only', async () => {
    S.wa.send({ type: 'typing', conversation_id: S.conv, active: true });
    const t = await S.wb.expectType('typing', { conversation_id: S.conv });
    check(t.user === S.alice.id && t.active === true, `typing ${JSON.stringify(t)}`);
    check(await S.wa.nothing((f) => f.type === 'typing', 300), 'alice got her own typing');
  }],

  ['ws: send gets ack before message; bob gets the message; typing ends', async () => {
    S.wa.send({ type: 'send', id: 'n1', conversation_id: S.conv, client_id: 'node-1', body: 'hi bob 👋' });
    const ack = await S.wa.expect((f) => (f.type === 'ack' || f.type === 'error') && f.id === 'n1', 'ack n1');
    check(ack.type === 'ack', `answer ${JSON.stringify(ack)}`);
    check(ack.message.body === 'hi bob 👋' && ack.message.seq === 1, `ack ${JSON.stringify(ack.message)}`);
    const own = await S.wa.expect((f) => f.type === 'message' && f.message.client_id === 'node-1', 'own message');
    check(own._n > ack._n, 'message event before its ack');
    const m = await S.wb.expect((f) => f.type === 'message' && f.message.client_id === 'node-1', 'bob message');
    check(m.message.sender === S.alice.id && m.message.body === 'hi bob 👋' &&
          m.message.conversation_id === S.conv && m.message.seq === 1, `message ${JSON.stringify(m)}`);
    const t = await S.wb.expectType('typing', { conversation_id: S.conv, active: false });
    check(t.user === S.alice.id, 'typing end user');
  }],

  ['ws: 20 messages each way, in order, no gaps', async () => {
    const total = 40;
    for (let i = 0; i < total; i++) {
      const [from, id] = i % 2 ? [S.wb, `b${i}`] : [S.wa, `a${i}`];
      from.send({ type: 'send', id, conversation_id: S.conv, client_id: `x-${i}`, body: `msg ${i}` });
    }
    for (const [c, who] of [[S.wa, 'alice'], [S.wb, 'bob']]) {
      const seen = [];
      for (let i = 0; i < total; i++) {
        const m = await c.expect((f) => f.type === 'message' && /^x-/.test(f.message.client_id), `${who} message ${i}`);
        seen.push(m.message.seq);
      }
      const want = Array.from({ length: total }, (_, k) => k + 2);
      check(JSON.stringify(seen) === JSON.stringify(want), `${who} seqs ${seen}`);
    }
    for (let i = 0; i < total; i++) {
      const [c, id] = i % 2 ? [S.wb, `b${i}`] : [S.wa, `a${i}`];
      const a = await c.expect((f) => f.id === id, `answer ${id}`);
      check(a.type === 'ack', `answer ${JSON.stringify(a)}`);
    }
    const r = await api('GET', `/api/v1/conversations/${S.conv}/messages?limit=100`, undefined, S.bob.token);
    check(r.status === 200 && r.json.messages.length === total + 1, `history ${r.status} ${r.json && r.json.messages.length}`);
  }],

  ['ws: read receipt from bob reaches alice', async () => {
    // A message from alice last: bob's own sends moved his marker to them,
    // and a receipt only comes when a marker moves.
    S.wa.send({ type: 'send', id: 'last', conversation_id: S.conv, client_id: 'last', body: 'read me' });
    const sent = await S.wa.expect((f) => f.id === 'last', 'ack last');
    check(sent.type === 'ack', `answer ${JSON.stringify(sent)}`);
    const seq = sent.message.seq;
    await S.wb.expect((f) => f.type === 'message' && f.message.client_id === 'last', 'bob message last');
    S.wb.send({ type: 'read', id: 'r1', conversation_id: S.conv, seq });
    const ack = await S.wb.expect((f) => f.id === 'r1', 'read answer');
    check(ack.type === 'ack', `answer ${JSON.stringify(ack)}`);
    const rc = await S.wa.expect((f) => f.type === 'receipt' && f.user === S.bob.id && f.read_seq === seq, 'receipt');
    check(rc.conversation_id === S.conv, `receipt ${JSON.stringify(rc)}`);
  }],

  ['ws: ws.ping() gets a pong with the same payload', async () => {
    const payload = Buffer.from('node-ping-' + Date.now());
    const before = S.wa.pongs.length;
    S.wa.ws.ping(payload);
    await S.wa.waitFor(() => (S.wa.pongs.length > before ? true : undefined), 'pong control frame');
    check(S.wa.pongs[before].equals(payload), `pong payload ${S.wa.pongs[before]}`);
  }],

  ['ws: ping request gets pong with its id', async () => {
    S.wb.send({ type: 'ping', id: 77 });
    const p = await S.wb.expectType('pong', { id: 77 });
    check(p.id === 77, 'id');
  }],

  ['ws: unknown frame type gets error invalid; session stays', async () => {
    S.wa.send({ type: 'no-such-type', id: 'e1' });
    const e = await S.wa.expect((f) => f.id === 'e1', 'error e1');
    check(e.type === 'error' && e.code === 'invalid', `answer ${JSON.stringify(e)}`);
    S.wa.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const b = await S.wa.expectType('error');
    check(b.code === 'invalid', `binary: ${JSON.stringify(b)}`);
    S.wa.send({ type: 'ping', id: 'after-error' });
    await S.wa.expectType('pong', { id: 'after-error' });
  }],

  ['ws: bob closes (1000): close handshake, alice sees him offline', async () => {
    S.wb.ws.close(1000, 'bye');
    await S.wb.waitFor(() => S.wb.closed || undefined, 'close event');
    check(S.wb.closed.code === 1000, `close code ${S.wb.closed.code}`);
    const p = await S.wa.expectType('presence', { user: S.bob.id, status: 'offline' });
    check(p.last_seen > 0, `last_seen ${p.last_seen}`);
  }],

  ['server exits 0 on SIGTERM, closing alice with 1001', async () => {
    const status = await H.stopServer();
    check(status === 0, `exit status ${status}`);
    await S.wa.waitFor(() => S.wa.closed || undefined, 'close of alice');
    check(S.wa.closed.code === 1001, `alice closed with ${S.wa.closed.code}`);
  }],
];

H.run(TESTS, async () => {
  base = (await H.startServer()).http;
  console.log(`# server at ${base}`);
}, async () => {
  for (const c of clients) c.ws.terminate();
});
