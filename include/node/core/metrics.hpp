// Prometheus metrics of one node: counters, gauges and histograms in labelled families,
// rendered in the text exposition format (version 0.0.4). Loop thread only: no locks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace node::core {

using labels = std::vector<std::pair<std::string, std::string>>;

class metrics {
  struct series;

 public:
  enum class kind { counter, gauge, histogram };

  // Declares a family; later calls for the same name keep the first declaration.
  // Histograms get `bounds` (seconds by default: 50us .. 5s).
  void declare(std::string name, kind k, std::string help, std::vector<double> bounds = {});

  // Counters and gauges. Undeclared names are declared as the kind used, with no help.
  void inc(std::string_view name, const labels& l = {}, double by = 1);
  void set(std::string_view name, const labels& l, double value);
  void observe(std::string_view name, const labels& l, double value);
  // Sets a whole histogram series from cumulative bucket counts kept elsewhere.
  void set_histogram(std::string_view name, const labels& l, const std::vector<double>& bounds,
                     const std::vector<std::uint64_t>& cumulative, std::uint64_t count, double sum);
  // Drops every series of a family (for gauges rebuilt by a collector).
  void clear(std::string_view name);

  // Called on every render, before the text is made: lets a role or the store refresh
  // its gauges from its own state.
  void add_collector(std::function<void(metrics&)> fn);

  std::string render();

  // Direct handles to one series, for hot paths that would otherwise render the label set
  // on every update. A handle stays valid until clear() of its family.
  class counter_ref {
   public:
    void inc(double by = 1) { *value_ += by; }

   private:
    friend class metrics;
    explicit counter_ref(double* v) : value_(v) {}
    double* value_;
  };
  class histogram_ref {
   public:
    void observe(double value);

   private:
    friend class metrics;
    histogram_ref(const std::vector<double>* bounds, series* s) : bounds_(bounds), series_(s) {}
    const std::vector<double>* bounds_;
    series* series_;
  };
  counter_ref counter(std::string_view name, const labels& l);
  histogram_ref histogram(std::string_view name, const labels& l);

  // Default latency buckets, seconds.
  static const std::vector<double>& default_bounds();

 private:
  struct series {
    double value = 0;
    std::vector<std::uint64_t> buckets;  // per bound, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct family {
    kind type = kind::counter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, series> by_labels;  // key: rendered label set "{a=\"b\"}"
  };

  family& get_family(std::string_view name, kind k);
  static std::string render_labels(const labels& l);

  std::map<std::string, family, std::less<>> families_;
  std::vector<std::function<void(metrics&)>> collectors_;
};

}  // namespace node::core
