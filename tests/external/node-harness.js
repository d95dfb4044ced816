// SPDX-License-Identifier: GPL-3.0-or-later
// What the Node clients' tests share (test-node-ws.js, test-amqplib.js):
// the npm package under test or a skip, the real supersoniq-server on
// 127.0.0.1:0 killed on any exit, fetch for REST, and the TAP runner.
//
// The server comes from $SSQ_SERVER_BIN (default: build/server/
// supersoniq-server in this source tree); $SSQ_SERVER_WRAPPER, if set, is
// put before its command line. Every wait has a deadline.
'use strict';

const path = require('path');
const fs = require('fs');
const os = require('os');
const { spawn } = require('child_process');

const SERVER_BIN = process.env.SSQ_SERVER_BIN ||
  path.join(__dirname, '..', '..', 'build', 'server', 'supersoniq-server');
const WAIT = 15000;          // any single wait
const START_WAIT = 30000;    // the "listening on" lines
const OVERALL = 100000;      // the whole run (meson's timeout is 120 s)

// The package from tests/external/node, and Node's global fetch; without
// either the whole test is skipped (TAP 1..0).
function requireNpm(name, spec) {
  let mod;
  try {
    mod = require(path.join(__dirname, 'node', 'node_modules', name));
  } catch (e) {
    console.log(`1..0 # SKIP npm package ${name} not installed ` +
                `(npm install --prefix tests/external/node ${spec} --no-audit --no-fund)`);
    process.exit(0);
  }
  if (typeof fetch !== 'function') {
    console.log(`1..0 # SKIP no global fetch in Node ${process.version} (needs Node 18+)`);
    process.exit(0);
  }
  return mod;
}

// ---------------------------------------------------------------------------
// The server process, stopped on any exit

let tmp = null;
let server = null;
let serverExit = null;   // exit code or 'signal NAME' once it is gone
const serverLog = [];

function killServer() {
  if (server && serverExit === null) {
    try { server.kill('SIGKILL'); } catch (e) { /* gone */ }
  }
  if (tmp) {
    try { fs.rmSync(tmp, { recursive: true, force: true }); } catch (e) { /* best effort */ }
  }
}

// The temporary directory named after @prefix, and the guards: the server
// killed and the directory removed on any exit, a signal or an uncaught
// error ends the run, and so does a run over OVERALL.
function guard(prefix) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
}

// Starts the server with @config (lines of server.conf after the common
// ones); resolves with { http, amqp } once the chat's "listening on" line
// is printed, and with @amqp also the "amqp listening on" line.
function startServer(config = [], { amqp = false } = {}) {
  const conf = path.join(tmp, 'server.conf');
  fs.writeFileSync(conf, [
    '[security]', 'pwhash_opslimit=1', 'pwhash_memlimit=8192',
    '[limits]', 'messages_per_minute=0', 'registrations_per_hour=0',
    ...config, '',
  ].join('\n'));
  fs.mkdirSync(path.join(tmp, 'data'));
  const wrapper = (process.env.SSQ_SERVER_WRAPPER || '').split(/\s+/).filter(Boolean);
  const argv = [...wrapper, SERVER_BIN, '--listen', '127.0.0.1:0',
                '--data-dir', path.join(tmp, 'data'), '--config', conf];
  const what = amqp ? 'lines' : 'line';
  return new Promise((resolve, reject) => {
    let done = false;
    const found = {};
    const timer = setTimeout(() => finish(new Error(`no "listening on" ${what} within 30 s`)), START_WAIT);
    function finish(err, urls) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      err ? reject(err) : resolve(urls);
    }
    server = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    server.on('error', (e) => {
      // Not spawned at all (no such binary): no 'exit' will come.
      if (server.pid === undefined) serverExit = `not spawned: ${e.code || e.message}`;
      finish(e);
    });
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
            // https:// with TLS on; this machine may still use http://.
            found.http = 'http://' + m[1].replace(/\/$/, '');
          }
          if (found.http && (found.amqp || !amqp)) finish(null, found);
        }
      });
    }
  });
}

// SIGTERM, SIGKILL after @timeoutMs; resolves with the exit status (or
// 'signal NAME'), at once if the server is gone or never started.
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
// Checks and REST

class Fail extends Error {}
function check(cond, what) { if (!cond) throw new Fail(what); }

// A REST call to the server at @base: { status, json (null if none), text }.
async function api(base, method, route, body, token) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(base + route, {
    method, headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
  return { status: res.status, json, text };
}

// ---------------------------------------------------------------------------
// The TAP runner

// Runs @tests, [name, async function] pairs whose function throws to fail
// and may return 'SKIP reason'. @setup runs first: if it throws, every test
// is reported not ok; @teardown runs after the last. Exits the process.
async function run(tests, setup, teardown = async () => {}) {
  console.log(`1..${tests.length}`);
  let failed = 0;
  let startError = null;
  try {
    await setup();
  } catch (e) {
    startError = e;
  }
  let n = 0;
  for (const [name, fn] of tests) {
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
  await teardown();
  await stopServer();
  process.exit(failed ? 1 : 0);
}

module.exports = {
  WAIT, requireNpm, guard, startServer, stopServer, Fail, check, api, run,
};
