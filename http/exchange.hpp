// One HTTP request and its response, as the API's handlers see them: the
// request line and headers already read, the body still on the socket (read
// on demand, so that a refusal can come before it), and the ways to answer.
// http/server.cpp implements it on a Beast connection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedhub::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

class Exchange {
 public:
  virtual ~Exchange() = default;

  virtual std::string_view method() const = 0;
  virtual std::string_view target() const = 0;
  // A request header's value, "" when absent.
  virtual std::string header(std::string_view name) const = 0;
  // The declared body size; nullopt when the body is chunked or absent.
  virtual std::optional<uint64_t> content_length() const = 0;
  virtual bool chunked() const = 0;

  // The whole body, refused with 413 (before reading it) when it declares
  // more than `max` bytes, and when it turns out longer.
  virtual std::string read_body(uint64_t max) = 0;
  // Up to out.size() bytes of the body; 0 once it has all been read.
  virtual size_t read_body_some(std::span<char> out) = 0;

  // A whole response (for HEAD, its head only).
  virtual void respond(unsigned status, const std::string& content_type, const std::string& body,
                       const Headers& extra = {}) = 0;
  // The head of a streamed response, with Content-Length when `length` is
  // given (otherwise the connection closes after the body); write() sends
  // the body's bytes. For HEAD, write() sends nothing.
  virtual void begin_stream(unsigned status, const std::string& content_type, std::optional<uint64_t> length,
                            const Headers& extra = {}) = 0;
  virtual void write(std::span<const char> bytes) = 0;
  // Whether the head has been sent (a failure after it can only close).
  virtual bool responded() const = 0;
  // Close the connection after this response (a body left unread).
  virtual void close_after() = 0;
  // The server is stopping: long responses (event streams) end.
  virtual bool stopping() const = 0;
};

}  // namespace fedhub::http
