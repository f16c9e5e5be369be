// The one RPC of the interop tests, defined without .proto files: raw Buffers in and out, so the
// tests need no code generation and no @grpc/proto-loader of their own.
'use strict';

const identity = (buffer) => buffer;

// cmesh.interop.Greeter/Who: the request is empty, the answer is the backend's identity as
// JSON ({"version":"v1","address":"127.0.0.11:PORT"}).
const greeterService = {
  Who: {
    path: '/cmesh.interop.Greeter/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

module.exports = { greeterService };
