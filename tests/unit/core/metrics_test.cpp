// Unit tests of the Prometheus text rendering.
#include "node/core/metrics.hpp"

#include <catch2/catch.hpp>

using node::core::metrics;

TEST_CASE("metrics: counters and gauges render with labels and help", "[unit]") {
  metrics m;
  m.declare("requests_total", metrics::kind::counter, "Requests.");
  m.inc("requests_total", {{"route", "/x"}, {"status", "200"}});
  m.inc("requests_total", {{"route", "/x"}, {"status", "200"}}, 2);
  m.set("open", {}, 5);
  auto text = m.render();
  CHECK(text.find("# HELP requests_total Requests.\n# TYPE requests_total counter\n") !=
        std::string::npos);
  CHECK(text.find("requests_total{route=\"/x\",status=\"200\"} 3\n") != std::string::npos);
  CHECK(text.find("# TYPE open gauge\nopen 5\n") != std::string::npos);
}

TEST_CASE("metrics: histograms are cumulative with +Inf, sum and count", "[unit]") {
  metrics m;
  m.declare("lat", metrics::kind::histogram, "Latency.", {0.1, 1});
  m.observe("lat", {}, 0.05);
  m.observe("lat", {}, 0.5);
  m.observe("lat", {}, 7);
  auto text = m.render();
  CHECK(text.find("lat_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(text.find("lat_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("lat_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("lat_sum 7.55\n") != std::string::npos);
  CHECK(text.find("lat_count 3\n") != std::string::npos);
}

TEST_CASE("metrics: label values are escaped and collectors run at render", "[unit]") {
  metrics m;
  int calls = 0;
  m.add_collector([&](metrics& mm) { mm.set("g", {{"v", "a\"b\\c"}}, ++calls); });
  auto text = m.render();
  CHECK(text.find("g{v=\"a\\\"b\\\\c\"} 1\n") != std::string::npos);
  text = m.render();
  CHECK(text.find("} 2\n") != std::string::npos);
}

TEST_CASE("metrics: set_histogram takes cumulative counts", "[unit]") {
  metrics m;
  m.set_histogram("fs", {}, {0.001, 0.01}, {2, 5}, 6, 0.04);
  auto text = m.render();
  CHECK(text.find("fs_bucket{le=\"0.001\"} 2\n") != std::string::npos);
  CHECK(text.find("fs_bucket{le=\"0.01\"} 5\n") != std::string::npos);
  CHECK(text.find("fs_bucket{le=\"+Inf\"} 6\n") != std::string::npos);
}
