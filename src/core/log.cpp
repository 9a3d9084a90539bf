// The background log writer: a bounded queue of lines drained to stderr by one thread.
#include "node/core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

namespace node::core::log {
namespace {

constexpr std::size_t max_queued = 65536;

std::atomic<level> g_level{level::info};

// Owns the writer thread; lines are queued under `mutex_` from any thread.
class writer {
 public:
  writer() : journal_(std::getenv("JOURNAL_STREAM") != nullptr) {}
  ~writer() { stop(); }

  void push(level l, std::string line) {
    std::unique_lock lock(mutex_);
    if (stopped_) {
      lock.unlock();
      emit(l, line);
      return;
    }
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    if (queue_.size() >= max_queued) {
      ++dropped_;
      return;
    }
    queue_.emplace_back(l, std::move(line));
    cv_.notify_one();
  }

  void flush() {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [this] { return queue_.empty() && !writing_; });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
      if (queue_.empty() && stopped_) return;
      std::deque<std::pair<level, std::string>> batch;
      batch.swap(queue_);
      std::size_t dropped = dropped_;
      dropped_ = 0;
      writing_ = true;
      lock.unlock();
      std::string out;
      for (auto& [l, line] : batch) append(out, l, line);
      if (dropped > 0) {
        append(out, level::warn, "log queue full: dropped " + std::to_string(dropped) + " lines");
      }
      write_all(out);
      lock.lock();
      writing_ = false;
      idle_cv_.notify_all();
    }
  }

  void append(std::string& out, level l, const std::string& line) const {
    if (journal_) {
      static constexpr const char* prio[] = {"<7>", "<6>", "<4>", "<3>", "<3>"};
      out += prio[static_cast<int>(l)];
    }
    out += line;
    out += '\n';
  }

  void emit(level l, const std::string& line) const {
    std::string out;
    append(out, l, line);
    write_all(out);
  }

  static void write_all(const std::string& out) {
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  const bool journal_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::pair<level, std::string>> queue_;
  std::size_t dropped_ = 0;
  bool writing_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

writer& the_writer() {
  static writer w;
  return w;
}

}  // namespace

bool parse_level(std::string_view text, level& out) {
  if (text == "debug") out = level::debug;
  else if (text == "info") out = level::info;
  else if (text == "warn") out = level::warn;
  else if (text == "error") out = level::error;
  else if (text == "off") out = level::off;
  else return false;
  return true;
}

void set_level(level l) { g_level.store(l); }
level current_level() { return g_level.load(std::memory_order_relaxed); }

void write(level l, std::string line) { the_writer().push(l, std::move(line)); }

void flush() { the_writer().flush(); }

}  // namespace node::core::log
