// The last OpenSSL error of this thread, for messages ("what: reason"); the error queue is cleared.
#pragma once

#include <openssl/err.h>

#include <string>

namespace cmesh::webhook {

inline std::string OpenSslError(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return what + ": " + text;
}

}  // namespace cmesh::webhook
