// Child processes, temp dirs and ports for integration tests.
#include "support/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace node::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_temp(const char* pattern) {
  std::string tmpl = std::string("/tmp/") + pattern;
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return buf.data();
}

pid_t spawn(const std::vector<std::string>& args, const std::string& err_path,
            const std::string& out_path) {
  std::vector<std::string> full;
  full.emplace_back(NODE_BINARY);
  full.insert(full.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A test that crashes must not leave its nodes running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(err, 2);
    ::dup2(out, 1);
    ::dup2(in, 0);
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for pid to exit before the deadline; returns the exit status or -1.
int wait_exit(pid_t pid, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

node_process::node_process(std::vector<std::string> args, std::size_t expected_listeners,
                           std::chrono::milliseconds deadline) {
  static int counter = 0;
  log_path_ = "/tmp/node-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
              ".log";
  bool has_port = false;
  for (const auto& a : args) has_port = has_port || a.rfind("--port", 0) == 0 || a == "--config";
  if (!has_port) args.emplace_back("--port=0");
  pid_ = spawn(args, log_path_, "/dev/null");
  const std::regex listening("listening on [^ ]*:([0-9]+)");
  auto until = std::chrono::steady_clock::now() + deadline;
  while (ports_.size() < expected_listeners) {
    std::string text = read_file(log_path_);
    ports_.clear();
    for (std::sregex_iterator it(text.begin(), text.end(), listening), end; it != end; ++it) {
      ports_.push_back(static_cast<std::uint16_t>(std::stoi((*it)[1].str())));
    }
    if (ports_.size() >= expected_listeners) break;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("node exited before listening:\n" + text);
    }
    if (std::chrono::steady_clock::now() > until) {
      kill9();
      throw std::runtime_error("node did not listen in time:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

node_process::~node_process() {
  kill9();
  ::unlink(log_path_.c_str());
}

void node_process::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_exit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

int node_process::stop(int sig, std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = wait_exit(pid_, deadline);
  if (status < 0) {
    kill9();
    return -1;
  }
  pid_ = -1;
  return status;
}

bool node_process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string node_process::log() const { return read_file(log_path_); }

run_result run_node(std::vector<std::string> args, std::chrono::milliseconds deadline) {
  temp_dir dir;
  std::string err = dir.file("err"), out = dir.file("out");
  pid_t pid = spawn(args, err, out);
  run_result r;
  r.status = wait_exit(pid, deadline);
  if (r.status < 0) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, std::chrono::seconds(5));
  }
  r.err = read_file(err);
  r.out = read_file(out);
  return r;
}

temp_dir::temp_dir() : path_(make_temp("node-test-XXXXXX")) {}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace node::test
