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
// The server is node-harness.js's, with [amqp] listen=127.0.0.1:0. With
// SSQ_AMQP_URL=amqp://guest:guest@127.0.0.1:PORT it runs against that
// broker instead (a RabbitMQ: how the test was checked). Every wait has a
// deadline.
'use strict';

const H = require('./node-harness');
const { WAIT, Fail, check } = H;

const amqp = H.requireNpm('amqplib', 'amqplib@0.10');

const EXTERNAL_URL = process.env.SSQ_AMQP_URL || '';
const N = 500;               // messages of the round trip

H.guard('ssq-ext-amqplib-');

function deadline(promise, what, ms = WAIT) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Fail(`${what}: no answer within ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(t));
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
    const status = await H.stopServer();
    check(status === 0, `exit status ${status}`);
    return null;
  }],
];

H.run(TESTS, async () => {
  if (supersoniq) {
    const urls = await H.startServer(['[amqp]', 'listen=127.0.0.1:0'], { amqp: true });
    const password = 'correct horse amqplib';
    const r = await H.api(urls.http, 'POST', '/api/v1/register', { username: 'nodebot', password });
    check(r.status === 201, `register nodebot: ${r.status} ${r.text}`);
    S.url = `amqp://nodebot:${encodeURIComponent(password)}@${urls.amqp}`;
    console.log(`# server at ${urls.http}, AMQP on ${urls.amqp}`);
  } else {
    S.url = EXTERNAL_URL;
    console.log(`# broker at ${EXTERNAL_URL}`);
  }
}, async () => {
  if (S.conn) { try { await S.conn.close(); } catch (e) { /* closed already */ } }
});
