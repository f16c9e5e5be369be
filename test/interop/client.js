// A real proxyless gRPC client (grpc-js-xds) driven by the interop tests: one JSON command per
// line on stdin, one JSON answer per line on stdout. The process, its xDS client and its channels
// live across config changes and control-plane restarts, as a real application's do.
//
// The bootstrap comes from the environment (GRPC_XDS_BOOTSTRAP_CONFIG); tracing from
// GRPC_VERBOSITY/GRPC_TRACE goes to stderr.
//
// Commands:
//   {"op":"call","target":"xds:///HOST:PORT","count":N,"concurrency":C,
//    "metadata":{"k":"v"},"deadline_ms":MS}
//     → {"ok":true,"versions":{"v1":n,...},"errors":{"CODE DETAILS":n,...}}
//   {"op":"quit"} → exits 0 (so does the end of stdin).
'use strict';

const readline = require('readline');
const grpc = require('@grpc/grpc-js');
require('@grpc/grpc-js-xds').register();
const { greeterService } = require('./greeter_service');

const Greeter = grpc.makeGenericClientConstructor(greeterService, 'Greeter');
// One client (one channel) per target, reused by every command.
const clients = new Map();

function clientFor(target) {
  if (!clients.has(target)) clients.set(target, new Greeter(target, grpc.credentials.createInsecure()));
  return clients.get(target);
}

function callOnce(client, metadata, deadlineMs) {
  return new Promise((resolve) => {
    client.Who(Buffer.alloc(0), metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
      if (error) {
        resolve({ error: `${error.code} ${error.details}` });
        return;
      }
      try {
        resolve({ version: JSON.parse(response.toString()).version });
      } catch (e) {
        resolve({ error: `bad answer ${response.toString()}` });
      }
    });
  });
}

async function call(command) {
  const client = clientFor(command.target);
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(command.metadata || {})) metadata.set(key, value);
  const count = command.count || 1;
  const concurrency = Math.max(1, command.concurrency || 1);
  const deadlineMs = command.deadline_ms || 5000;
  const versions = {};
  const errors = {};
  let next = 0;
  async function worker() {
    while (next < count) {
      next++;
      const result = await callOnce(client, metadata, deadlineMs);
      if (result.version !== undefined) versions[result.version] = (versions[result.version] || 0) + 1;
      else errors[result.error] = (errors[result.error] || 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { ok: true, versions, errors };
}

function answer(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function quit() {
  for (const client of clients.values()) client.close();
  process.exit(0);
}

// Commands run one at a time, in order: the test reads exactly one answer per command.
let queue = Promise.resolve();
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  queue = queue.then(async () => {
    let command;
    try {
      command = JSON.parse(line);
    } catch (e) {
      answer({ ok: false, error: `not JSON: ${line}` });
      return;
    }
    if (command.op === 'call') answer(await call(command));
    else if (command.op === 'quit') quit();
    else answer({ ok: false, error: `unknown op ${command.op}` });
  });
});
lines.on('close', () => queue.then(quit));
