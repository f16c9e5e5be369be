// Polling for a condition that becomes true after some asynchronous work (a controller reacting, a
// process starting): every 250 ms until `timeout`, then one last look.
#pragma once

#include <chrono>
#include <thread>

namespace cmesh::testing {

template <typename F>
bool Eventually(F condition, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return condition();
}

}  // namespace cmesh::testing
