#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// SupersoniQ's AMQP broker seen by Node's `amqplib` package (npm, 0.10),
// a client nobody on the team wrote: a confirm channel publishes, a
// consumer with a prefetch takes the messages back with their properties,
// acks, nacks with requeue (redelivered), and a server-side error on one
// channel leaves the connection usable. TAP on stdout. Skipped (1..0 # SKIP)
// without the module:
//   npm install --prefix tests/external/node amqplib@0.10 --no-audit --no-fund
//
// The server comes from $SSQ_SERVER_BIN (default: build/server/
// supersoniq-server in this source tree), with [amqp] listen=127.0.0.1:0.
// With SSQ_AMQP_URL=amqp://guest:guest@127.0.0.1:PORT it runs against that
// broker instead (a RabbitMQ: how the test was checked). Every wait has a
// deadline, and the server is killed on any exit.
'use strict';

const path = require('path');
const fs = require('fs');
const os = require('os');
const { spawn } = require('child_process');

let amqp;
try {
  amqp = require(path.join(__dirname, 'node', 'node_modules', 'amqplib'));
} catch (e) {
  console.log('1..0 # SKIP npm package amqplib not installed ' +
              '(npm install --prefix tests/external/node amqplib@0.10 --no-audit --no-fund)');
  process.exit(0);
}
if (typeof fetch !== 'function') {
  console.log(`1..0 # SKIP no global fetch in Node ${process.version} (needs Node 18+)`);
  process.exit(0);
}

const SERVER_BIN = process.env.SSQ_SERVER_BIN ||
  path.join(__dirname, '..', '..', 'build', 'server', 'supersoniq-server');
const EXTERNAL_URL = process.env.SSQ_AMQP_URL || '';
const WAIT = 15000;          // any single wait
const START_WAIT = 30000;    // the "listening on" lines
const OVERALL = 100000;      // the whole run (meson's timeout is 120 s)
const N = 500;               // messages of the round trip

// ---------------------------------------------------------------------------
// The server process, stopped on any exit

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssq-ext-amqplib-'));
let server = null;
let serverExit = null;
const serverLog = [];

function killServer() {
  if (server && serverExit === null) {
    try { server.kill('SIGKILL'); } catch (e) { /* gone */ }
  }
  try { fs.rmSync(tmp, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}
process.on('exit', killServer);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.log(`# interrupted by ${sig}`); process.exit(1); });
}
process.on('uncaughtException', (e) => {
  console.log(`Bail out! uncaught: ${e && e.stack ? e.stack.split('\n')[0] : e}`);
  process.exit(1);
});
process.on('unhandledRejection', (e) => {
  console.log(`Bail out! unhandled rejection: ${e && e.stack ? e.stack.split('\n')[0] : e}`);
  process.exit(1);
});
setTimeout(() => {
  console.log(`Bail out! the whole run took over ${OVERALL / 1000} s`);
  process.exit(1);
}, OVERALL).unref();

// Resolves with { http, amqp } once both "listening on" lines are printed.
function startServer() {
  const conf = path.join(tmp, 'server.conf');
  fs.writeFileSync(conf, [
    '[security]', 'pwhash_opslimit=1', 'pwhash_memlimit=8192',
    '[limits]', 'messages_per_minute=0', 'registrations_per_hour=0',
    '[amqp]', 'listen=127.0.0.1:0', '',
  ].join('\n'));
  fs.mkdirSync(path.join(tmp, 'data'));
  const wrapper = (process.env.SSQ_SERVER_WRAPPER || '').split(/\s+/).filter(Boolean);
  const argv = [...wrapper, SERVER_BIN, '--listen', '127.0.0.1:0',
                '--data-dir', path.join(tmp, 'data'), '--config', conf];
  return new Promise((resolve, reject) => {
    let done = false;
    const found = {};
    const timer = setTimeout(() => finish(new Error('no "listening on" lines within 30 s')), START_WAIT);
    function finish(err, urls) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      err ? reject(err) : resolve(urls);
    }
    server = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    server.on('error', (e) => finish(e));
    server.on('exit', (code, sig) => {
      serverExit = sig ? `signal ${sig}` : code;
      finish(new Error(`server exited (${serverExit}) before listening`));
    });
    for (const [name, stream] of [['stdout', server.stdout], ['stderr', server.stderr]]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        rest += chunk;
        let i;
        while ((i = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, i);
          rest = rest.slice(i + 1);
          serverLog.push(`${name}: ${line}`);
          let m = /amqp listening on amqp:\/\/(\S+)/.exec(line);
          if (m) {
            found.amqp = m[1].replace(/\/$/, '');
          } else if ((m = /listening on https?:\/\/(\S+)/.exec(line))) {
            found.http = 'http://' + m[1].replace(/\/$/, '');
          }
          if (found.http && found.amqp) finish(null, found);
        }
      });
    }
  });
}

function stopServer(timeoutMs = 10000) {
  return new Promise((resolve) => {
    if (server === null || serverExit !== null) return resolve(serverExit);
    const t = setTimeout(() => { server.kill('SIGKILL'); }, timeoutMs);
    server.once('exit', (code, sig) => {
      clearTimeout(t);
      serverExit = sig ? `signal ${sig}` : code;
      resolve(serverExit);
    });
    server.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------
// Helpers

class Fail extends Error {}
function check(cond, what) { if (!cond) throw new Fail(what); }

function deadline(promise, what, ms = WAIT) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Fail(`${what}: no answer within ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

async function register(base, username, password) {
  const res = await fetch(base + '/api/v1/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(WAIT),
  });
  const json = await res.json();
  check(res.status === 201, `register ${username}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const S = {};
const supersoniq = !EXTERNAL_URL;
const qname = `amqplib.${process.pid}.${Date.now()}`;

const TESTS = [
  ['amqplib: connect with PLAIN and open a confirm channel', async () => {
    S.conn = await deadline(amqp.connect(S.url, { timeout: WAIT }), 'connect');
    S.conn.on('error', (e) => { S.connError = e; });
    S.ch = await deadline(S.conn.createConfirmChannel(), 'confirm channel');
    const ok = await deadline(S.ch.assertQueue(qname, { durable: true }), 'assertQueue');
    check(ok.queue === qname && ok.messageCount === 0, `declare-ok ${JSON.stringify(ok)}`);
  }],

  [`amqplib: ${N} persistent publishes, every one confirmed`, async () => {
    const acks = [];
    for (let i = 0; i < N; i++) {
      acks.push(new Promise((resolve, reject) => {
        S.ch.sendToQueue(qname, Buffer.from(`message ${i} ✓`), {
          persistent: true, contentType: 'text/plain', messageId: `id-${i}`,
          priority: 1, correlationId: `c-${i}`, timestamp: 1700000000 + i, appId: 'ssq-amqplib',
          headers: { index: i, even: i % 2 === 0, tag: 'round-trip' },
        }, (err) => (err ? reject(new Fail(`message ${i} nacked`)) : resolve()));
      }));
    }
    await deadline(Promise.all(acks), `${N} confirms`, 60000);
    await deadline(S.ch.waitForConfirms(), 'waitForConfirms');
    const ok = await deadline(S.ch.checkQueue(qname), 'checkQueue');
    check(ok.messageCount === N, `messageCount ${ok.messageCount}`);
  }],

  [`amqplib: a consumer with prefetch 10 gets all ${N} back in order, properties intact`, async () => {
    const ch = await deadline(S.conn.createChannel(), 'channel');
    await ch.prefetch(10);
    const got = [];
    let bad = null;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Fail(`${got.length} of ${N} delivered`)), 60000);
      ch.consume(qname, (msg) => {
        const i = got.length;
        const p = msg.properties;
        if (!bad && (msg.content.toString('utf8') !== `message ${i} ✓` ||
            p.messageId !== `id-${i}` || p.contentType !== 'text/plain' || p.deliveryMode !== 2 ||
            p.correlationId !== `c-${i}` || p.timestamp !== 1700000000 + i ||
            p.appId !== 'ssq-amqplib' || p.priority !== 1 ||
            p.headers.index !== i || p.headers.even !== (i % 2 === 0) || p.headers.tag !== 'round-trip' ||
            msg.fields.redelivered)) {
          bad = `message ${i}: ${msg.content.toString('utf8')} ${JSON.stringify(p)} ${JSON.stringify(msg.fields)}`;
        }
        got.push(msg);
        ch.ack(msg);
        if (got.length === N) { clearTimeout(timer); resolve(); }
      }).catch(reject);
    });
    check(!bad, bad);
    await ch.close();
    const ok = await S.ch.checkQueue(qname);
    check(ok.messageCount === 0, `${ok.messageCount} left`);
  }],

  ['amqplib: nack with requeue comes back redelivered; get, ack', async () => {
    const ch = await deadline(S.conn.createChannel(), 'channel');
    ch.sendToQueue(qname, Buffer.from('again'));
    let m = false;
    for (let i = 0; i < 100 && !m; i++) m = await ch.get(qname);
    check(m && !m.fields.redelivered, 'first get');
    ch.nack(m, false, true);
    const m2 = await ch.get(qname);
    check(m2 && m2.fields.redelivered && m2.content.toString() === 'again',
          `after nack: ${m2 && JSON.stringify(m2.fields)}`);
    ch.ack(m2);
    check((await ch.get(qname)) === false, 'queue not empty');
    await ch.close();
  }],

  ['amqplib: a 404 closes that channel only; the connection goes on', async () => {
    const ch = await deadline(S.conn.createChannel(), 'channel');
    const closed = new Promise((resolve) => ch.on('close', resolve));
    ch.on('error', () => { /* expected */ });
    let err = null;
    try {
      await ch.checkQueue(`${qname}.missing`);
    } catch (e) {
      err = e;
    }
    check(err && err.code === 404, `checkQueue of a missing queue: ${err && err.message}`);
    await deadline(closed, 'channel close');
    const ok = await deadline(S.ch.checkQueue(qname), 'checkQueue on the other channel');
    check(ok.queue === qname, 'connection unusable');
    check(!S.connError, `connection error ${S.connError}`);
  }],

  ['amqplib: delete the queue, close the connection', async () => {
    const ok = await deadline(S.ch.deleteQueue(qname), 'deleteQueue');
    check(ok.messageCount === 0, `deleted with ${ok.messageCount}`);
    await deadline(S.conn.close(), 'close');
  }],

  ['server exits 0 on SIGTERM', async () => {
    if (!supersoniq) return 'SKIP not SupersoniQ';
    const status = await stopServer();
    check(status === 0, `exit status ${status}`);
    return null;
  }],
];

async function main() {
  console.log(`1..${TESTS.length}`);
  let failed = 0;
  let startError = null;
  try {
    if (supersoniq) {
      const urls = await startServer();
      const password = 'correct horse amqplib';
      await register(urls.http, 'nodebot', password);
      S.url = `amqp://nodebot:${encodeURIComponent(password)}@${urls.amqp}`;
      console.log(`# server at ${urls.http}, AMQP on ${urls.amqp}`);
    } else {
      S.url = EXTERNAL_URL;
      console.log(`# broker at ${EXTERNAL_URL}`);
    }
  } catch (e) {
    startError = e;
  }
  let n = 0;
  for (const [name, fn] of TESTS) {
    n++;
    if (startError) {
      console.log(`not ok ${n} - ${name}\n# not started: ${startError.message}`);
      failed++;
      continue;
    }
    const t0 = Date.now();
    try {
      const skip = await fn();
      console.log(`ok ${n} - ${name}${typeof skip === 'string' ? ` # ${skip}` : ''}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${n} - ${name}`);
      for (const line of String(e && e.stack || e).split('\n').slice(0, 4)) console.log(`# ${line}`);
      if (serverExit !== null) console.log(`# server is gone (${serverExit})`);
      console.log(`# (${((Date.now() - t0) / 1000).toFixed(2)} s)`);
    }
  }
  if (failed && serverLog.length) {
    console.log('# server log tail:');
    for (const l of serverLog.slice(-15)) console.log(`#   ${l}`);
  }
  if (S.conn) { try { await S.conn.close(); } catch (e) { /* closed already */ } }
  await stopServer();
  process.exit(failed ? 1 : 0);
}

main();
