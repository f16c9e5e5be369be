// Plain gRPC backends (no xDS) for the interop tests: one server per VERSION=IP argument, all on
// one port, each answering cmesh.interop.Greeter/Who with its version and address. The common
// port is chosen here (the first server binds port 0, the others must get the same number, else
// all are retried), then printed as one JSON line {"port":N} on stdout once every server is bound.
// Runs until stdin closes or a signal arrives, so it never outlives the test that started it.
//
// usage: node backend.js v1=127.0.0.11 v2=127.0.0.12 ...
'use strict';

const grpc = require('@grpc/grpc-js');
const { greeterService } = require('./greeter_service');

const backends = process.argv.slice(2).map((arg) => {
  const [version, ip] = arg.split('=');
  if (!version || !ip) {
    console.error(`backend.js: bad argument ${arg}; expected VERSION=IP`);
    process.exit(2);
  }
  return { version, ip };
});
if (backends.length === 0) {
  console.error('usage: node backend.js VERSION=IP...');
  process.exit(2);
}

function bind(server, address) {
  return new Promise((resolve) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) =>
      resolve(error ? null : port));
  });
}

// `where.port` is read per call: the first server's port is only known once it is bound.
function newServer(version, ip, where) {
  const server = new grpc.Server();
  server.addService(greeterService, {
    Who: (call, callback) => {
      callback(null, Buffer.from(JSON.stringify({ version, address: `${ip}:${where.port}` })));
    },
  });
  return server;
}

async function listenAll() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const where = { port: 0 };
    const [head, ...rest] = backends;
    const first = newServer(head.version, head.ip, where);
    where.port = await bind(first, `${head.ip}:0`);
    if (!where.port) throw new Error(`cannot bind ${head.ip}:0`);
    const servers = [first];
    let ok = true;
    for (const { version, ip } of rest) {
      const server = newServer(version, ip, where);
      servers.push(server);
      if ((await bind(server, `${ip}:${where.port}`)) !== where.port) {
        ok = false;
        break;
      }
    }
    if (ok) return { port: where.port, servers };
    for (const server of servers) server.forceShutdown();
  }
  throw new Error('no port free on every backend address');
}

listenAll().then(({ port, servers }) => {
  process.stdout.write(JSON.stringify({ port }) + '\n');
  const stop = () => {
    for (const server of servers) server.forceShutdown();
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}, (error) => {
  console.error(`backend.js: ${error.message}`);
  process.exit(1);
});
