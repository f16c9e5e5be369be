// Raw TCP clients for tests that talk HTTP/1.1 to the project's servers byte by byte (proxies,
// backends): no HTTP library in between, so the tests see exactly what went over the wire.
#pragma once

#include <chrono>
#include <string>

namespace cmesh::testing {

// A blocking connection to ip:port with a receive timeout; -1 when the connect failed.
int ConnectTcp(int port, const std::string& ip = "127.0.0.1",
               std::chrono::seconds receive_timeout = std::chrono::seconds(10));

// Sends `data` on a new connection, half-closes it when `half_close`, and returns everything read
// until the server closes (or the receive timeout passes). Empty when the connect failed.
std::string ExchangeTcp(int port, const std::string& data, bool half_close = false, const std::string& ip = "127.0.0.1");

// A TCP port nobody listens on now, on any address (the kernel's pick, released before use, so a
// process started next can bind it); -1 when none could be had.
int FreeTcpPort();

}  // namespace cmesh::testing
