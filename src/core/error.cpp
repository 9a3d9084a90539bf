// Constructors for the contract's error answers.
#include "node/core/error.hpp"

#include <ostream>

namespace node::core {

void throw_exception_from_error(const error& e, const boost::source_location&) {
  throw error_exception(e);
}

std::ostream& operator<<(std::ostream& os, const error& e) {
  os << e.status << ' ' << e.code << ": " << e.message;
  if (!e.field.empty()) os << " (field " << e.field << ')';
  return os;
}

error bad_request(std::string message, std::string field) {
  return {400, "bad_request", std::move(message), std::move(field)};
}

error not_found(std::string message) { return {404, "not_found", std::move(message), {}}; }

error conflict(std::string code, std::string message, std::string field) {
  return {409, std::move(code), std::move(message), std::move(field)};
}

error unavailable(std::string message) { return {503, "unavailable", std::move(message), {}}; }

error unauthorized(std::string message) {
  return {401, "unauthorized", std::move(message), {}};
}

}  // namespace node::core
