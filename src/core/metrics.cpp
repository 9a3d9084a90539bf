// Prometheus families and their text rendering.
#include "node/core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace node::core {
namespace {

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Inserts `extra` (like `le="0.5"`) into a rendered label set.
std::string with_label(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

const std::vector<double>& metrics::default_bounds() {
  static const std::vector<double> b = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                        0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                        0.5,     1,      2.5,     5};
  return b;
}

void metrics::declare(std::string name, kind k, std::string help, std::vector<double> bounds) {
  auto it = families_.find(name);
  if (it != families_.end()) return;
  family f;
  f.type = k;
  f.help = std::move(help);
  if (k == kind::histogram) {
    f.bounds = bounds.empty() ? default_bounds() : std::move(bounds);
  }
  families_.emplace(std::move(name), std::move(f));
}

metrics::family& metrics::get_family(std::string_view name, kind k) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    declare(std::string(name), k, {});
    it = families_.find(name);
  }
  return it->second;
}

std::string metrics::render_labels(const labels& l) {
  if (l.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape_label(v);
    out += '"';
  }
  out += '}';
  return out;
}

void metrics::inc(std::string_view name, const labels& l, double by) {
  get_family(name, kind::counter).by_labels[render_labels(l)].value += by;
}

void metrics::set(std::string_view name, const labels& l, double value) {
  get_family(name, kind::gauge).by_labels[render_labels(l)].value = value;
}

void metrics::observe(std::string_view name, const labels& l, double value) {
  histogram(name, l).observe(value);
}

metrics::counter_ref metrics::counter(std::string_view name, const labels& l) {
  return counter_ref(&get_family(name, kind::counter).by_labels[render_labels(l)].value);
}

metrics::histogram_ref metrics::histogram(std::string_view name, const labels& l) {
  family& f = get_family(name, kind::histogram);
  if (f.bounds.empty()) f.bounds = default_bounds();
  series& s = f.by_labels[render_labels(l)];
  if (s.buckets.size() != f.bounds.size()) s.buckets.assign(f.bounds.size(), 0);
  return histogram_ref(&f.bounds, &s);
}

void metrics::histogram_ref::observe(double value) {
  series& s = *series_;
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_->begin(), bounds_->end(), value) -
                                    bounds_->begin());
  if (i < s.buckets.size()) ++s.buckets[i];
  ++s.count;
  s.sum += value;
}

void metrics::set_histogram(std::string_view name, const labels& l,
                            const std::vector<double>& bounds,
                            const std::vector<std::uint64_t>& cumulative, std::uint64_t count,
                            double sum) {
  family& f = get_family(name, kind::histogram);
  f.bounds = bounds;
  series& s = f.by_labels[render_labels(l)];
  s.buckets.assign(bounds.size(), 0);
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    s.buckets[i] = cumulative[i] - prev;
    prev = cumulative[i];
  }
  s.count = count;
  s.sum = sum;
}

void metrics::clear(std::string_view name) {
  auto it = families_.find(name);
  if (it != families_.end()) it->second.by_labels.clear();
}

void metrics::add_collector(std::function<void(metrics&)> fn) {
  collectors_.push_back(std::move(fn));
}

std::string metrics::render() {
  for (auto& c : collectors_)
    c(*this);
  std::string out;
  for (const auto& [name, f] : families_) {
    static constexpr const char* type_names[] = {"counter", "gauge", "histogram"};
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + type_names[static_cast<int>(f.type)] + "\n";
    for (const auto& [lbl, s] : f.by_labels) {
      if (f.type != kind::histogram) {
        out += name + lbl + " ";
        append_number(out, s.value);
        out += '\n';
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.bounds.size(); ++i) {
        cumulative += i < s.buckets.size() ? s.buckets[i] : 0;
        std::string le = "le=\"";
        append_number(le, f.bounds[i]);
        le += '"';
        out += name + "_bucket" + with_label(lbl, le) + " " + std::to_string(cumulative) + "\n";
      }
      out +=
          name + "_bucket" + with_label(lbl, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + lbl + " ";
      append_number(out, s.sum);
      out += "\n" + name + "_count" + lbl + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace node::core
