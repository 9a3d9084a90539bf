// Starting real `node` processes for integration tests, and stopping them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace node::test {

// A `node` child process. Its stderr goes to a temp file. The constructor waits (with a
// deadline) until the node logs every "listening on HOST:PORT" line it is expected to;
// the destructor kills it (SIGKILL) if it still runs.
class node_process {
 public:
  explicit node_process(std::vector<std::string> args, std::size_t expected_listeners = 1,
                        std::chrono::milliseconds deadline = std::chrono::seconds(20));
  ~node_process();
  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  // The port of the first (or i-th) listener.
  std::uint16_t port(std::size_t i = 0) const { return ports_.at(i); }
  pid_t pid() const { return pid_; }
  // SIGKILL and reap.
  void kill9();
  // Sends SIGTERM (or sig) and waits for the exit; returns the exit status, or -1 when it
  // did not exit before the deadline (it is then killed).
  int stop(int sig = 15, std::chrono::milliseconds deadline = std::chrono::seconds(20));
  bool running();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::vector<std::uint16_t> ports_;
};

// Runs `node` with args to completion (bounded by deadline); returns exit status and
// what it wrote on stderr and stdout.
struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};
run_result run_node(std::vector<std::string> args,
                    std::chrono::milliseconds deadline = std::chrono::seconds(20));

// A fresh empty directory under /tmp, removed by the destructor.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A port that was free a moment ago (bind to 0, read, close).
std::uint16_t free_port();

}  // namespace node::test
