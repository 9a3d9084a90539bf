// The consensus role's flags: the models joined at start-up, the fan-out's timeout and
// coalescing, and every tunable of the vote and stake rules (node::consensus::params).
#include "node/app/role_options.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace node::app {

namespace po = boost::program_options;

namespace {

// The flag of each field named by validate() of params or coalesce_limits.
struct param_flag {
  const char* field;
  const char* flag;
};
constexpr param_flag param_flags[] = {
    {"ema_rate", "ema-rate"},
    {"initial_weight", "initial-weight"},
    {"min_deposit", "min-deposit"},
    {"min_balance", "min-balance"},
    {"quorum", "quorum"},
    {"kappa", "kappa"},
    {"reward_rate", "reward-rate"},
    {"slash_fraction", "slash-fraction"},
    {"correlation", "correlation"},
    {"inactivity_rate", "inactivity-rate"},
    {"burn_cap", "burn-cap"},
    {"emission", "emission"},
    {"max_models", "max-models"},
    {"model_in_flight", "model-in-flight"},
    {"model_batch_rows", "model-batch-rows"},
};

std::string flag_of(const std::string& field) {
  for (const auto& p : param_flags) {
    if (field == p.field) return p.flag;
  }
  return field;
}

bool valid_model_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// "a=http://h:1,b=http://h:2" -> pairs; "" or a one-line error.
std::string parse_models(const std::string& text,
                         std::vector<std::pair<std::string, std::string>>& out) {
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      return "--models: expected ID=URL, got '" + item + "'";
    }
    std::string id = item.substr(0, eq);
    std::string url = item.substr(eq + 1);
    if (!valid_model_id(id)) {
      return "--models: id '" + id + "' must be 1 to 64 letters, digits, '_', '.' or '-'";
    }
    if (!url.starts_with("http://") || url.size() <= 7) {
      return "--models: the URL of " + id + " must start with http://, got '" + url + "'";
    }
    if (!seen.insert(id).second) return "--models: id '" + id + "' is given twice";
    out.emplace_back(std::move(id), std::move(url));
  }
  return {};
}

}  // namespace

po::options_description consensus_options() {
  const consensus::params d;
  po::options_description c("Consensus (--role=consensus; rules in docs/consensus.md)");
  // clang-format off
  c.add_options()
      ("models", po::value<std::string>()->value_name("ID=URL,..."),
       "models joined at start with --deposit each; one already stored keeps its state")
      ("deposit", po::value<double>()->default_value(1000)->value_name("COINS"),
       "deposit of the --models, and of a POST /models that gives none")
      ("model-timeout-ms", po::value<long>()->default_value(250)->value_name("MS"),
       "a model that has not answered a prediction request by then does not vote")
      ("model-in-flight", po::value<std::size_t>()->default_value(1)->value_name("N"),
       "GET /predict: requests in flight to one model at most; rows beyond wait and go together "
       "as one POST /predict (0: each GET asks each model itself)")
      ("model-batch-rows", po::value<std::size_t>()->default_value(256)->value_name("N"),
       "rows of one such coalesced request at most")
      ("vote", po::value<std::string>()->default_value("hard")->value_name("MODE"),
       "hard (one vote per model) or soft (spread by the model's probabilities)")
      ("quorum", po::value<double>()->default_value(d.quorum)->value_name("FRACTION"),
       "a batch needs more than this fraction of the active models answering, else 503")
      ("min-deposit", po::value<double>()->default_value(d.min_deposit)->value_name("COINS"),
       "smallest deposit a model may join with")
      ("min-balance", po::value<double>()->default_value(d.min_balance)->value_name("COINS"),
       "a model whose balance falls below this is ejected (below --min-deposit)")
      ("ema-rate", po::value<double>()->default_value(d.ema_rate)->value_name("ALPHA"),
       "weight <- (1 - ALPHA) * weight + ALPHA * score after each batch")
      ("initial-weight", po::value<double>()->default_value(d.initial_weight)->value_name("W"),
       "weight of a newly joined model, in [0, 1]")
      ("kappa", po::value<double>()->default_value(d.kappa)->value_name("FRACTION"),
       "without labels, a consensus with less support than this judges nobody")
      ("reward-rate", po::value<double>()->default_value(d.reward_rate)->value_name("FRACTION"),
       "reward per batch at full accuracy, fraction of the balance")
      ("slash-fraction",
       po::value<double>()->default_value(d.slash_fraction)->value_name("FRACTION"),
       "base slash of a batch answered all wrong, fraction of the balance")
      ("correlation", po::value<double>()->default_value(d.correlation)->value_name("X"),
       "slash multiplier on the share of stake wrong on the same instance")
      ("inactivity-rate",
       po::value<double>()->default_value(d.inactivity_rate)->value_name("FRACTION"),
       "penalty of a batch not answered at all, fraction of the balance")
      ("burn-cap", po::value<double>()->default_value(d.burn_cap)->value_name("FRACTION"),
       "most one batch moves a balance either way, fraction of the balance")
      ("emission", po::value<double>()->default_value(d.emission)->value_name("COINS"),
       "coins added to the reward pool by each counted batch")
      ("max-models", po::value<std::size_t>()->default_value(d.max_models)->value_name("N"),
       "registered models at most")
      ("max-instances", po::value<std::size_t>()->default_value(1000)->value_name("N"),
       "instances of one POST /predict at most (400 above)")
      ("max-pending", po::value<std::size_t>()->default_value(1024)->value_name("N"),
       "batches and cluster changes waiting for the store at most (503 above)");
  // clang-format on
  return c;
}

std::string read_consensus_options(const po::variables_map& vm, node_config& cfg) {
  auto& c = cfg.consensus;
  auto& p = c.params;
  const auto mode = consensus::parse_vote_mode(vm["vote"].as<std::string>());
  if (!mode) return "--vote must be hard or soft, got '" + vm["vote"].as<std::string>() + "'";
  p.mode = *mode;
  p.quorum = vm["quorum"].as<double>();
  p.min_deposit = vm["min-deposit"].as<double>();
  p.min_balance = vm["min-balance"].as<double>();
  p.ema_rate = vm["ema-rate"].as<double>();
  p.initial_weight = vm["initial-weight"].as<double>();
  p.kappa = vm["kappa"].as<double>();
  p.reward_rate = vm["reward-rate"].as<double>();
  p.slash_fraction = vm["slash-fraction"].as<double>();
  p.correlation = vm["correlation"].as<double>();
  p.inactivity_rate = vm["inactivity-rate"].as<double>();
  p.burn_cap = vm["burn-cap"].as<double>();
  p.emission = vm["emission"].as<double>();
  p.max_models = vm["max-models"].as<std::size_t>();
  if (auto ok = consensus::validate(p); !ok) {
    return "--" + flag_of(ok.error().field) + ": " + ok.error().message;
  }

  c.deposit = vm["deposit"].as<double>();
  if (!std::isfinite(c.deposit) || c.deposit < p.min_deposit ||
      c.deposit > consensus::max_deposit) {
    return "--deposit must be between --min-deposit and 1000000, got " + std::to_string(c.deposit);
  }
  const long timeout = vm["model-timeout-ms"].as<long>();
  if (timeout < 1 || timeout > 60'000) {
    return "--model-timeout-ms must be between 1 and 60000, got " + std::to_string(timeout);
  }
  c.model_timeout = std::chrono::milliseconds(timeout);
  c.coalesce.in_flight = vm["model-in-flight"].as<std::size_t>();
  c.coalesce.batch_rows = vm["model-batch-rows"].as<std::size_t>();
  if (auto ok = consensus::validate(c.coalesce); !ok) {
    return "--" + flag_of(ok.error().field) + ": " + ok.error().message;
  }
  c.max_instances = vm["max-instances"].as<std::size_t>();
  if (c.max_instances < 1 || c.max_instances > 100'000) {
    return "--max-instances must be between 1 and 100000";
  }
  c.max_pending = vm["max-pending"].as<std::size_t>();
  if (c.max_pending < 1 || c.max_pending > 1'000'000) {
    return "--max-pending must be between 1 and 1000000";
  }
  c.models.clear();
  if (vm.count("models") != 0) {
    if (auto err = parse_models(vm["models"].as<std::string>(), c.models); !err.empty()) {
      return err;
    }
    if (c.models.size() > p.max_models) return "--models lists more than --max-models models";
  }
  return {};
}

}  // namespace node::app
