// Logging to stderr, one line per event, written by a background thread so the event
// loop never blocks on a slow pipe. Journald-friendly: when stderr is the journal
// (JOURNAL_STREAM set), each line carries a <N> priority prefix.
#pragma once

#include <string>
#include <string_view>

namespace node::core::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// Parses "debug", "info", "warn", "error" or "off"; false for anything else.
bool parse_level(std::string_view text, level& out);
void set_level(level l);
level current_level();
inline bool enabled(level l) { return l >= current_level(); }

// Queues one line (a newline is added). When the queue is full (a stalled stderr), the
// line is dropped and counted; the count is reported once the queue drains.
void write(level l, std::string line);

inline void debug(std::string line) {
  if (enabled(level::debug)) write(level::debug, std::move(line));
}
inline void info(std::string line) {
  if (enabled(level::info)) write(level::info, std::move(line));
}
inline void warn(std::string line) {
  if (enabled(level::warn)) write(level::warn, std::move(line));
}
inline void error(std::string line) {
  if (enabled(level::error)) write(level::error, std::move(line));
}

// Writes every queued line and waits until it is out. Called at exit.
void flush();

}  // namespace node::core::log
