// The one error type of the project: what went wrong, as the HTTP contract reports it.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <iosfwd>
#include <string>
#include <utility>

namespace node::core {

// A failure a client or a peer should hear about. `status` is the HTTP status the
// server answers with, `code` the contract's snake_case code, `field` the input at
// fault (empty when no single input is).
struct error {
  error() = default;
  // Not an aggregate on purpose: result<std::int64_t> must not mistake an integer for an error.
  error(unsigned status_, std::string code_, std::string message_, std::string field_ = {})
      : status(status_),
        code(std::move(code_)),
        message(std::move(message_)),
        field(std::move(field_)) {}

  unsigned status = 500;
  std::string code = "internal_error";
  std::string message;
  std::string field;
};

// Lets boost::system::result<T, error>::value() throw when it holds an error.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

// Thrown only by result<T, error>::value() on an error; caught at the handler boundary.
struct error_exception : std::exception {
  explicit error_exception(error e) : err(std::move(e)) {}
  const char* what() const noexcept override { return err.message.c_str(); }
  error err;
};

// "404 not_found: product 7 not found (field id)", for logs and test output.
std::ostream& operator<<(std::ostream& os, const error& e);

template <class T>
using result = boost::system::result<T, error>;

error bad_request(std::string message, std::string field = {});
error not_found(std::string message);
error conflict(std::string code, std::string message, std::string field = {});
error unavailable(std::string message);
error unauthorized(std::string message);

}  // namespace node::core
