// Integration tests of the consensus role against real `node` processes: joining and leaving,
// the admin token, bad requests, models that refuse or never answer, persistence across a
// restart, and the ledger invariant.
#include "node/ml/dataset.hpp"
#include "support/http.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

using namespace node::test;
namespace json = node::core::json;
using std::chrono::milliseconds;

// Sanitizer builds run several times slower: the latency bounds below are checked as
// written in the normal build, with this much slack under ASan/UBSan.
#ifdef NODE_SANITIZED
constexpr std::chrono::milliseconds timing_slack{200};
#else
constexpr std::chrono::milliseconds timing_slack{0};
#endif

namespace {

std::string field_of(const reply& r) {
  const auto body = r.json();
  const auto& err = body.at("error").as_object();
  return err.contains("field") ? std::string(err.at("field").as_string()) : std::string();
}

std::string url_of(std::uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

reply join(std::uint16_t port, const std::string& id, const std::string& url,
           double deposit = 1000) {
  return post(port, "/models", json::object{{"id", id}, {"url", url}, {"deposit", deposit}});
}

// A model's balance and status from GET /models.
json::object model_of(std::uint16_t port, const std::string& id) {
  const auto models = get(port, "/models").json();
  for (const auto& m : models.as_array()) {
    if (m.at("id") == id.c_str()) return m.as_object();
  }
  FAIL("no model " << id);
  return {};
}

// The invariant: each model's ledger amounts add up to its balance (to the micro-coin), and
// the entries are numbered 1, 2, 3, ...
void check_ledger_adds_up(std::uint16_t port) {
  const auto ledger = get(port, "/ledger").json().as_array();
  std::map<std::string, double> sums;
  std::uint64_t seq = 0;
  for (const auto& e : ledger) {
    CHECK(e.at("seq").to_number<std::uint64_t>() == ++seq);
    sums[std::string(e.at("model").as_string())] += e.at("amount").to_number<double>();
  }
  const auto balances = get(port, "/balances").json().as_object();
  for (const auto& [id, b] : balances) {
    INFO("model " << id);
    CHECK(std::fabs(sums[std::string(id)] - b.at("balance").to_number<double>()) < 1e-5);
  }
}

// A socket that accepts connections (the kernel completes them) and never answers.
class silent_listener {
 public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() { ::close(fd_); }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("consensus: models join and withdraw with their deposits", "[integration]") {
  node_process n({"--role=consensus", "--store=memory:"});
  auto p = n.port();
  CHECK(get(p, "/models").json() == json::array{});

  auto joined = join(p, "model_A", "http://127.0.0.1:5001", 1500);
  REQUIRE(joined.status == 201);
  auto a = joined.json().as_object();
  CHECK(a.at("id") == "model_A");
  CHECK(a.at("url") == "http://127.0.0.1:5001");
  CHECK(a.at("balance").to_number<double>() == 1500.0);
  CHECK(a.at("weight").to_number<double>() == 0.5);
  CHECK(a.at("status") == "active");
  // The deposit defaults to --deposit.
  auto b = post(p, "/models", json::object{{"id", "model_B"}, {"url", "http://127.0.0.1:5002"}});
  REQUIRE(b.status == 201);
  CHECK(b.json().at("balance").to_number<double>() == 1000.0);

  auto dup = join(p, "model_A", "http://127.0.0.1:5009");
  CHECK(dup.status == 409);
  CHECK(dup.json().at("error").at("code") == "conflict");
  auto low = join(p, "model_C", "http://127.0.0.1:5003", 999.99);
  CHECK(low.status == 400);
  CHECK(field_of(low) == "deposit");

  CHECK(get(p, "/balances").json() == json::parse(R"({"model_A":{"balance":1500.0,"weight":0.5},
                                                      "model_B":{"balance":1000.0,"weight":0.5}})"));
  CHECK(get(p, "/models/model_A").json().at("balance").to_number<double>() == 1500.0);
  CHECK(get(p, "/models/nobody").status == 404);

  auto left = del(p, "/models/model_A");
  REQUIRE(left.status == 200);
  CHECK(left.json() == json::parse(R"({"id":"model_A","refunded":1500.0})"));
  auto gone = model_of(p, "model_A");
  CHECK(gone.at("status") == "withdrawn");
  CHECK(gone.at("balance").to_number<double>() == 0.0);
  CHECK(del(p, "/models/model_A").status == 409);
  CHECK(del(p, "/models/nobody").status == 404);
  // A withdrawn id stays taken.
  CHECK(join(p, "model_A", "http://127.0.0.1:5001").status == 409);

  const auto ledger = get(p, "/ledger").json().as_array();
  REQUIRE(ledger.size() == 3);
  CHECK(ledger[0].at("kind") == "deposit");
  CHECK(ledger[0].at("amount").to_number<double>() == 1500.0);
  CHECK(ledger[0].at("batch") == 0);
  CHECK(ledger[0].at("at").as_string().size() >= 20);
  CHECK(ledger[2].at("kind") == "withdrawal");
  CHECK(ledger[2].at("amount").to_number<double>() == -1500.0);
  CHECK(ledger[2].at("balance").to_number<double>() == 0.0);
  CHECK(get(p, "/ledger?model=model_B").json().as_array().size() == 1);
  check_ledger_adds_up(p);
}

TEST_CASE("consensus: invalid joins are refused naming the field and change nothing",
          "[integration]") {
  node_process n({"--role=consensus", "--store=memory:"});
  auto p = n.port();
  struct bad {
    json::value body;
    std::string field;
  };
  const std::vector<bad> cases = {
      {json::object{{"url", "http://127.0.0.1:1"}}, "id"},
      {json::object{{"id", 7}, {"url", "http://127.0.0.1:1"}}, "id"},
      {json::object{{"id", ""}, {"url", "http://127.0.0.1:1"}}, "id"},
      {json::object{{"id", "a b"}, {"url", "http://127.0.0.1:1"}}, "id"},
      {json::object{{"id", "m"}}, "url"},
      {json::object{{"id", "m"}, {"url", "ftp://x"}}, "url"},
      {json::object{{"id", "m"}, {"url", "https://127.0.0.1:1"}}, "url"},
      {json::object{{"id", "m"}, {"url", "http://127.0.0.1:1"}, {"deposit", "1000"}}, "deposit"},
      {json::object{{"id", "m"}, {"url", "http://127.0.0.1:1"}, {"deposit", 2e6}}, "deposit"},
      {json::object{{"id", "m"}, {"url", "http://127.0.0.1:1"}, {"deposit", -5}}, "deposit"},
      {json::array{1, 2}, "id"},
  };
  for (const auto& c : cases) {
    INFO(json::serialize(c.body));
    auto r = post(p, "/models", c.body);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").at("code") == "bad_request");
    CHECK(field_of(r) == c.field);
  }
  CHECK(call("POST", p, "/models", "{\"id\":", {{"Content-Type", "application/json"}}).status ==
        400);
  CHECK(call("POST", p, "/models", "id=m", {{"Content-Type", "text/plain"}}).status == 415);
  CHECK(get(p, "/models").json() == json::array{});
  CHECK(get(p, "/ledger").json() == json::array{});
}

TEST_CASE("consensus: cluster changes need the admin token when one is set", "[integration]") {
  node_process n({"--role=consensus", "--store=memory:", "--admin-token=s3cret"});
  auto p = n.port();
  const json::object body{{"id", "m"}, {"url", "http://127.0.0.1:1"}};
  CHECK(post(p, "/models", body).status == 401);
  CHECK(call("POST", p, "/models", json::serialize(body),
             {{"Authorization", "Bearer wrong"}, {"Content-Type", "application/json"}})
            .status == 401);
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"Authorization", "Bearer s3cret"}, {"Content-Type", "application/json"}};
  CHECK(call("POST", p, "/models", json::serialize(body), auth).status == 201);
  CHECK(del(p, "/models/m").status == 401);
  CHECK(call("DELETE", p, "/models/m", {}, auth).status == 200);
  // Reads stay open.
  CHECK(get(p, "/models").status == 200);
  CHECK(get(p, "/balances").status == 200);
}

TEST_CASE("consensus: bad predictions requests are 400 naming the field", "[integration]") {
  node_process n({"--role=consensus", "--store=memory:", "--max-instances=3"});
  auto p = n.port();
  CHECK(field_of(get(p, "/predict?sw=3.5&pl=1.4&pw=0.2")) == "sl");
  CHECK(field_of(get(p, "/predict?sl=abc&sw=3.5&pl=1.4&pw=0.2")) == "sl");
  CHECK(field_of(get(p, "/predict?sl=5.1&sw=nan&pl=1.4&pw=0.2")) == "sw");
  CHECK(field_of(get(p, "/predict?sl=5.1&sw=3.5&pl=1e999&pw=0.2")) == "pl");
  CHECK(get(p, "/predict?sl=5.1&sw=3.5&pl=1.4").status == 400);
  CHECK(field_of(post(p, "/predict", json::object{{"instances", json::array{}}})) == "instances");
  CHECK(field_of(post(p, "/predict", json::parse(R"({"instances":[[1],[1],[1],[1]]})"))) ==
        "instances");
  CHECK(field_of(post(p, "/predict", json::parse(R"({"instances":[[1,2]],"labels":[0,1]})"))) ==
        "labels");
  // Well-formed, but nobody to ask.
  auto none = get(p, "/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2");
  CHECK(none.status == 503);
  CHECK(none.json().at("error").at("code") == "unavailable");
}

TEST_CASE("consensus: with no model answering predict is 503 and nobody pays", "[integration]") {
  const auto closed = free_port();
  node_process n({"--role=consensus",
                  "--store=memory:", "--models=a=" + url_of(closed) + ",b=" + url_of(free_port())});
  auto p = n.port();
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 2; }));
  for (int i = 0; i < 3; ++i) {
    auto r = get(p, "/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2");
    REQUIRE(r.status == 503);
    const auto models = r.json().at("models").as_array();
    REQUIRE(models.size() == 2);
    CHECK(models[0].at("status") == "error");
  }
  auto batch =
      post(p, "/predict", json::parse(R"({"instances":[[5.1,3.5,1.4,0.2]],"labels":[0]})"));
  CHECK(batch.status == 503);
  // Labels cannot be checked against classes nobody named: still 503, not 400.
  CHECK(post(p, "/predict", json::parse(R"({"instances":[[1,2,3,4]],"labels":["rose"]})")).status ==
        503);
  // Void batches move no coin: only the deposits are in the ledger.
  CHECK(get(p, "/ledger").json().as_array().size() == 2);
  CHECK(model_of(p, "a").at("balance").to_number<double>() == 1000.0);
  CHECK(model_of(p, "a").at("weight").to_number<double>() == 0.5);
  const auto metrics = get(p, "/metrics").body;
  CHECK(metrics.find("consensus_model_errors_total{model=\"a\"} 5") != std::string::npos);
  CHECK(metrics.find("consensus_batches_total{result=\"void\"} 5") != std::string::npos);
  CHECK(metrics.find("consensus_model_balance{model=\"b\"} 1000") != std::string::npos);
}

TEST_CASE("consensus: a model that never answers does not hold the answer up", "[integration]") {
  silent_listener silent;
  node_process n({"--role=consensus", "--store=memory:", "--model-timeout-ms=200",
                  "--models=mute=" + url_of(silent.port())});
  auto p = n.port();
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 1; }));
  for (int i = 0; i < 3; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto r = get(p, "/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2");
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(r.status == 503);
    CHECK(r.json().at("models").at(0).at("status") == "timeout");
    CHECK(took < milliseconds(250) + timing_slack);
    CHECK(took >= milliseconds(195));
  }
  CHECK(get(p, "/metrics").body.find("consensus_model_timeouts_total{model=\"mute\"} 3") !=
        std::string::npos);
}

TEST_CASE("consensus: balances and the ledger survive a restart", "[integration]") {
  temp_dir dir;
  const std::string store = "--store=json:" + dir.file("balances.json");
  const std::string models = "--models=a=http://127.0.0.1:1,b=http://127.0.0.1:2";
  json::value balances;
  json::value ledger;
  {
    node_process n({"--role=consensus", store, models});
    auto p = n.port();
    REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 2; }));
    REQUIRE(join(p, "c", "http://127.0.0.1:3", 2500).status == 201);
    REQUIRE(del(p, "/models/a").status == 200);
    balances = get(p, "/balances").json();
    ledger = get(p, "/ledger").json();
    check_ledger_adds_up(p);
    n.kill9();
  }
  const std::string text = read_file(dir.file("balances.json"));
  CHECK(text.find("\n") != std::string::npos);
  CHECK(text.find("\"models\"") != std::string::npos);
  CHECK(text.find("\"ledger\"") != std::string::npos);
  // --models again: a and b are known and keep their state (a stays withdrawn).
  node_process again({"--role=consensus", store, models});
  auto p = again.port();
  CHECK(get(p, "/balances").json() == balances);
  CHECK(get(p, "/ledger").json() == ledger);
  CHECK(model_of(p, "a").at("status") == "withdrawn");
  CHECK(get(p, "/models").json().at(2).at("id") == "c");
  check_ledger_adds_up(p);
  CHECK(join(p, "d", "http://127.0.0.1:4").status == 201);
  CHECK(get(p, "/ledger").json().as_array().back().at("seq") == 5);
}

TEST_CASE("consensus: a ledger that does not add up stops the start", "[integration]") {
  temp_dir dir;
  {
    std::ofstream out(dir.file("balances.json"));
    out << R"({"meta":{"lsn":1,"history":"abc","next_ids":{}},"collections":{
      "cluster":{"meta":{"pool":0.0,"batches":0,"last_seq":1}},
      "ledger":{"1":{"seq":1,"model":"a","kind":"deposit","amount":1000.0,"balance":1000.0,
                     "reason":"deposit on joining","batch":0,"at":"2024-01-01T00:00:00Z"}},
      "models":{"a":{"id":"a","url":"http://127.0.0.1:1","balance":1200.0,"weight":0.5,
                     "status":"active","deposit":1000.0,"order":0}}}})";
  }
  auto r = run_node({"--role=consensus", "--port=0", "--store=json:" + dir.file("balances.json")});
  CHECK(r.status != 0);
  CHECK(r.err.find("ledger of model a") != std::string::npos);
}

TEST_CASE("consensus: bad flags are refused before anything listens", "[integration]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--vote=maybe", "--vote"},
      {"--min-balance=2000", "--min-balance"},
      {"--ema-rate=1.5", "--ema-rate"},
      {"--model-timeout-ms=0", "--model-timeout-ms"},
      {"--model-in-flight=1025", "--model-in-flight"},
      {"--model-in-flight=-1", "--model-in-flight"},
      {"--model-batch-rows=0", "--model-batch-rows"},
      {"--model-batch-rows=100001", "--model-batch-rows"},
      {"--models=a", "--models"},
      {"--models=a=ftp://x", "--models"},
      {"--models=a=http://h:1,a=http://h:2", "--models"},
      {"--deposit=10", "--deposit"},
  };
  for (const auto& [flag, named] : cases) {
    INFO(flag);
    auto r = run_node({"--role=consensus", "--port=0", "--store=memory:", flag});
    CHECK(r.status == 2);
    CHECK(r.err.find(named) != std::string::npos);
  }
}

// --- with real model nodes ----------------------------------------------------------------

namespace {

// Model nodes of the given algorithms ("random_forest", "liar", ...), each named by its
// algorithm and index ("liar_3"), trained on the built-in Iris data.
class model_nodes {
 public:
  explicit model_nodes(const std::vector<std::string>& algorithms) {
    for (std::size_t i = 0; i < algorithms.size(); ++i) {
      ids_.push_back(algorithms[i] + "_" + std::to_string(i));
      nodes_.push_back(std::make_unique<node_process>(
          std::vector<std::string>{"--role=model", "--algorithm=" + algorithms[i],
                                   "--model-id=" + ids_.back(), "--cv-folds=0"}));
    }
  }
  const std::vector<std::string>& ids() const { return ids_; }
  std::uint16_t port(std::size_t i) const { return nodes_.at(i)->port(); }
  // "--models=id=url,..." for the consensus node.
  std::string models_flag() const {
    std::string flag = "--models=";
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      flag += (i ? "," : "") + ids_[i] + "=" + url_of(nodes_[i]->port());
    }
    return flag;
  }

 private:
  std::vector<std::string> ids_;
  std::vector<std::unique_ptr<node_process>> nodes_;
};

// The 150 Iris rows in a fixed shuffled order (the data set is sorted by class).
std::vector<std::size_t> iris_order() {
  std::vector<std::size_t> order(node::ml::iris().size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::mt19937 rng(7);
  for (std::size_t i = order.size() - 1; i > 0; --i) {
    std::swap(order[i], order[rng() % (i + 1)]);
  }
  return order;
}

// POSTs rows order[first, first + 15) as one batch; returns how many the consensus got right.
int run_batch(std::uint16_t port, const std::vector<std::size_t>& order, std::size_t first,
              bool labelled) {
  const auto& iris = node::ml::iris();
  json::array instances;
  json::array labels;
  for (std::size_t k = first; k < first + 15; ++k) {
    const auto& row = iris.rows[order[k]];
    instances.push_back(json::array(row.begin(), row.end()));
    labels.push_back(iris.labels[order[k]]);
  }
  json::object body{{"instances", instances}};
  if (labelled) body["labels"] = labels;
  auto r = post(port, "/predict", body);
  REQUIRE(r.status == 200);
  const auto predictions = r.json().at("predictions").as_array();
  REQUIRE(predictions.size() == 15);
  int right = 0;
  for (std::size_t k = 0; k < 15; ++k) {
    right += predictions[k].at("consensus_prediction") == labels[k] ? 1 : 0;
  }
  return right;
}

// Runs the 150 rows as 10 batches of 15; returns how many the consensus got right.
int run_all(std::uint16_t port, bool labelled) {
  const auto order = iris_order();
  int right = 0;
  for (std::size_t b = 0; b < 10; ++b)
    right += run_batch(port, order, b * 15, labelled);
  return right;
}

std::string status_of(std::uint16_t port, const std::string& id) {
  return std::string(model_of(port, id).at("status").as_string());
}
double balance_of(std::uint16_t port, const std::string& id) {
  return model_of(port, id).at("balance").to_number<double>();
}

}  // namespace

TEST_CASE("consensus: labelled batches eject two liars among three honest models",
          "[integration]") {
  model_nodes models({"random_forest", "decision_tree", "knn", "liar", "liar"});
  node_process n({"--role=consensus", "--store=memory:", models.models_flag()});
  auto p = n.port();
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 5; }));
  const int right = run_all(p, true);
  CHECK(right >= 143);  // 95% of 150
  for (const auto& id : {"liar_3", "liar_4"})
    CHECK(status_of(p, id) == "ejected");
  for (const auto& id : {"random_forest_0", "decision_tree_1", "knn_2"}) {
    CHECK(status_of(p, id) == "active");
    CHECK(balance_of(p, id) > 1000);
  }
  const auto metrics = get(p, "/metrics").body;
  CHECK(metrics.find("consensus_ejections_total{model=\"liar_3\"} 1") != std::string::npos);
  CHECK(metrics.find("consensus_model_weight{model=\"liar_4\"}") != std::string::npos);
  check_ledger_adds_up(p);
}

TEST_CASE("consensus: without labels the liars lose their stake and are ejected", "[integration]") {
  model_nodes models({"random_forest", "decision_tree", "knn", "liar", "liar"});
  node_process n({"--role=consensus", "--store=memory:", models.models_flag()});
  auto p = n.port();
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 5; }));
  const int right = run_all(p, false);
  CHECK(right >= 143);
  for (const auto& id : {"liar_3", "liar_4"})
    CHECK(status_of(p, id) == "ejected");
  for (const auto& id : {"random_forest_0", "decision_tree_1", "knn_2"}) {
    CHECK(balance_of(p, id) > 1000);
  }
  const auto ledger = get(p, "/ledger").json().as_array();
  bool liar_slashed = false;
  for (const auto& e : ledger) {
    liar_slashed = liar_slashed || (e.at("model") == "liar_3" && e.at("kind") == "slash");
  }
  CHECK(liar_slashed);
  check_ledger_adds_up(p);
}

TEST_CASE("consensus: three liars against two honest models are slashed out with labels",
          "[integration]") {
  model_nodes models({"random_forest", "knn", "liar", "liar", "liar"});
  node_process n({"--role=consensus", "--store=memory:", models.models_flag()});
  auto p = n.port();
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 5; }));
  const auto order = iris_order();
  // The liars hold 60% of the power at first; labelled batches take it from them.
  std::vector<int> right;
  for (std::size_t b = 0; b < 10; ++b)
    right.push_back(run_batch(p, order, b * 15, true));
  INFO("right per batch of 15: " << json::serialize(json::value_from(right)));
  CHECK(right[0] <= 1);
  int after_first = 0;
  for (std::size_t b = 1; b < right.size(); ++b) {
    CHECK(right[b] >= 12);
    after_first += right[b];
  }
  CHECK(after_first >= 122);  // 90% of the 135 rows after the first batch
  for (const auto& id : {"liar_2", "liar_3", "liar_4"})
    CHECK(status_of(p, id) == "ejected");
  // Once they are out, the consensus is right on (nearly) every row, labels or not.
  CHECK(run_all(p, false) >= 135);  // 90% of 150
  for (const auto& id : {"random_forest_0", "knn_1"})
    CHECK(balance_of(p, id) > 1000);
  check_ledger_adds_up(p);
}

// Three honest models and "mute", which accepts connections and never answers, behind a
// consensus node with a 150 ms model timeout; ready once all four have joined.
struct with_mute_model {
  silent_listener silent;
  model_nodes models{{"random_forest", "decision_tree", "knn"}};
  node_process n{{"--role=consensus", "--store=memory:", "--model-timeout-ms=150",
                  models.models_flag() + ",mute=" + url_of(silent.port())}};

  with_mute_model() {
    REQUIRE(eventually([&] { return get(port(), "/models").json().as_array().size() == 4; }));
  }
  std::uint16_t port() { return n.port(); }
};

TEST_CASE("consensus: a model that never answers is penalised for inactivity only",
          "[integration]") {
  with_mute_model cluster;
  const auto p = cluster.port();
  for (int i = 0; i < 3; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto r = get(p, "/predict?sl=6.7&sw=3.0&pl=5.2&pw=2.3");
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r.status == 200);
    CHECK(took < milliseconds(200) + timing_slack);
    const auto body = r.json();
    CHECK(body.at("consensus_prediction") == 2);
    CHECK(body.at("label") == "virginica");
    const auto& answers = body.at("models").as_array();
    REQUIRE(answers.size() == 4);
    CHECK(answers[0].at("status") == "ok");
    CHECK(answers[3].at("id") == "mute");
    CHECK(answers[3].at("status") == "timeout");
    CHECK(answers[3].at("prediction").is_null());
    CHECK(body.at("individual_predictions").at(3).is_null());
  }
  int inactivity = 0;
  const auto mute_ledger = get(p, "/ledger?model=mute").json();
  for (const auto& e : mute_ledger.as_array()) {
    CHECK(e.at("kind") != "slash");
    inactivity += e.at("kind") == "inactivity" ? 1 : 0;
  }
  CHECK(inactivity == 3);
  CHECK(balance_of(p, "mute") < 1000);
  CHECK(model_of(p, "mute").at("weight").to_number<double>() == 0.5);
  check_ledger_adds_up(p);
}

TEST_CASE("consensus: stakes moved by batches survive a restart of the consensus node",
          "[integration]") {
  temp_dir dir;
  model_nodes models({"random_forest", "knn", "liar"});
  const std::vector<std::string> args = {
      "--role=consensus", "--store=json:" + dir.file("balances.json"), models.models_flag()};
  json::value balances;
  json::value ledger;
  {
    node_process n(args);
    auto p = n.port();
    REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 3; }));
    const auto order = iris_order();
    for (std::size_t b = 0; b < 3; ++b)
      run_batch(p, order, b * 15, true);
    balances = get(p, "/balances").json();
    ledger = get(p, "/ledger").json();
    CHECK(ledger.as_array().size() > 3);
    n.kill9();
  }
  node_process again(args);
  auto p = again.port();
  CHECK(get(p, "/balances").json() == balances);
  CHECK(get(p, "/ledger").json() == ledger);
  CHECK(balance_of(p, "liar_2") < 1000);
  // The next batch builds on the restored state.
  run_batch(p, iris_order(), 45, true);
  CHECK(get(p, "/ledger").json().as_array().size() > ledger.as_array().size());
  check_ledger_adds_up(p);
}

TEST_CASE("consensus: the shipped workshop config predicts over its three models",
          "[integration]") {
  std::ifstream in(std::string(NODE_SOURCE_DIR) + "/config/workshop.conf");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // Every port moves to a free one wherever it appears; data/ moves to a temp dir.
  temp_dir dir;
  std::map<std::string, std::uint16_t> ports;
  const std::regex port_line(R"((^|\n)\s*port\s*=\s*([0-9]+))");
  for (std::sregex_iterator it(text.begin(), text.end(), port_line), end; it != end; ++it) {
    ports.emplace((*it)[2].str(), free_port());
  }
  REQUIRE(ports.count("6001") == 1);
  for (const auto& [from, to] : ports) {
    text = std::regex_replace(text, std::regex("\\b" + from + "\\b"), std::to_string(to));
  }
  text = std::regex_replace(text, std::regex(R"(([:=]\s*)data/)"), "$1" + dir.path() + "/data/");
  std::ofstream(dir.file("workshop.conf")) << text;

  node_process all({"--config", dir.file("workshop.conf"), "--drain-ms=0"}, ports.size());
  const auto p = ports.at("6001");
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 3; }));
  auto r = get(p, "/predict?sl=6.7&sw=3.0&pl=5.2&pw=2.3");
  REQUIRE(r.status == 200);
  const auto body = r.json();
  CHECK(body.at("label") == "virginica");
  CHECK(body.at("individual_predictions") == json::array{2, 2, 2});
  CHECK(body.at("models").at(0).at("id") == "model_A");
  CHECK(read_file(dir.path() + "/data/balances.json").find("\"model_C\"") != std::string::npos);
}

// --- coalesced asks -------------------------------------------------------------------------

namespace {

// The /predict requests a node has answered, by method ("GET", "POST"), from its
// http_requests_total series.
std::map<std::string, long> predict_requests(std::uint16_t port) {
  std::map<std::string, long> out;
  std::istringstream lines(get(port, "/metrics").body);
  const std::regex series(R"re(^http_requests_total\{(.*)\} ([0-9.e+]+)$)re");
  const std::regex method(R"re(method="([A-Z]+)")re");
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    std::smatch verb;
    if (!std::regex_match(line, m, series)) continue;
    const std::string labels = m[1].str();
    if (labels.find("route=\"/predict\"") == std::string::npos) continue;
    if (!std::regex_search(labels, verb, method)) continue;
    out[verb[1].str()] += std::lround(std::stod(m[2].str()));
  }
  return out;
}

// Sends `per_client` GET /predict of `query` from each of `clients` threads at once; returns
// every reply and how long each took.
struct timed_reply {
  reply r;
  std::chrono::steady_clock::duration took;
};
std::vector<timed_reply> concurrent_gets(std::uint16_t port, const std::string& query,
                                         std::size_t clients, std::size_t per_client) {
  std::vector<std::vector<timed_reply>> per(clients);
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (std::size_t i = 0; i < per_client; ++i) {
        const auto started = std::chrono::steady_clock::now();
        auto r = get(port, "/predict?" + query);
        per[c].push_back({std::move(r), std::chrono::steady_clock::now() - started});
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::vector<timed_reply> out;
  for (auto& v : per)
    for (auto& t : v)
      out.push_back(std::move(t));
  return out;
}

// Every reply is the setosa row's: 200, consensus 0 "setosa", each model ok with 0.
void check_all_setosa(const std::vector<timed_reply>& replies, std::size_t models) {
  std::size_t right = 0;
  for (const auto& t : replies) {
    const auto body = t.r.json();
    bool ok = t.r.status == 200 && body.is_object() && body.at("consensus_prediction") == 0 &&
              body.at("label") == "setosa" && body.at("models").as_array().size() == models;
    for (std::size_t m = 0; ok && m < models; ++m) {
      ok = body.at("models").at(m).at("status") == "ok" &&
           body.at("individual_predictions").at(m) == 0;
    }
    if (ok) {
      ++right;
    } else {
      INFO("status " << t.r.status << ": " << t.r.body);
      CHECK(ok);
    }
  }
  CHECK(right == replies.size());
}

}  // namespace

TEST_CASE("consensus: concurrent GETs are answered right with fewer requests to the models",
          "[integration]") {
  model_nodes models({"random_forest", "decision_tree", "knn"});
  node_process n({"--role=consensus", "--store=memory:", models.models_flag()});
  auto p = n.port();
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 3; }));
  const std::size_t clients = 16;
  const std::size_t per_client = 25;
  const auto replies = concurrent_gets(p, "sl=5.1&sw=3.5&pl=1.4&pw=0.2", clients, per_client);
  REQUIRE(replies.size() == clients * per_client);
  check_all_setosa(replies, 3);
  // Each GET is still its own batch of one.
  CHECK(get(p, "/metrics").body.find("consensus_batches_total{result=\"counted\"} 400") !=
        std::string::npos);
  // With one request in flight per model, rows that found it busy went together: fewer
  // requests than GETs reached each model, some of them coalesced POSTs.
  long total = 0;
  long posts = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    auto asked = predict_requests(models.port(i));
    INFO(models.ids()[i] << ": " << asked["GET"] << " GET, " << asked["POST"] << " POST");
    CHECK(asked["GET"] + asked["POST"] < static_cast<long>(replies.size()));
    total += asked["GET"] + asked["POST"];
    posts += asked["POST"];
  }
  CHECK(total < static_cast<long>(replies.size() * 3));
  CHECK(posts > 0);
  check_ledger_adds_up(p);
}

TEST_CASE("consensus: with --model-in-flight=0 each GET asks each model itself", "[integration]") {
  model_nodes models({"random_forest", "decision_tree", "knn"});
  node_process n(
      {"--role=consensus", "--store=memory:", "--model-in-flight=0", models.models_flag()});
  auto p = n.port();
  REQUIRE(eventually([&] { return get(p, "/models").json().as_array().size() == 3; }));
  const auto replies = concurrent_gets(p, "sl=5.1&sw=3.5&pl=1.4&pw=0.2", 8, 15);
  check_all_setosa(replies, 3);
  for (std::size_t i = 0; i < 3; ++i) {
    auto asked = predict_requests(models.port(i));
    CHECK(asked["GET"] == static_cast<long>(replies.size()));
    CHECK(asked["POST"] == 0);
  }
  check_ledger_adds_up(p);
}

TEST_CASE("consensus: GETs waiting behind a model that never answers answer within the timeout",
          "[integration]") {
  with_mute_model cluster;
  const auto p = cluster.port();
  // The mute model's one request in flight holds its lane for the whole timeout: the rows of
  // the other GETs wait behind it and give up on it at their own deadline.
  const auto replies = concurrent_gets(p, "sl=6.7&sw=3.0&pl=5.2&pw=2.3", 8, 3);
  for (const auto& t : replies) {
    REQUIRE(t.r.status == 200);
    CHECK(t.took < milliseconds(200) + timing_slack);
    const auto body = t.r.json();
    CHECK(body.at("label") == "virginica");
    CHECK(body.at("models").at(3).at("status") == "timeout");
    CHECK(body.at("models").at(0).at("status") == "ok");
  }
  CHECK(get(p, "/metrics").body.find("consensus_model_timeouts_total{model=\"mute\"} 24") !=
        std::string::npos);
  check_ledger_adds_up(p);
}
