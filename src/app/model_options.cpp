// The model role's flags, and loading and checking its dataset so that a bad CSV, algorithm
// or fold count fails at start (exit 2) before anything listens.
#include "node/app/role_options.hpp"

#include "node/ml/classifier.hpp"
#include "node/ml/cross_validation.hpp"
#include "node/ml/csv.hpp"
#include "node/ml/dataset.hpp"

#include <charconv>
#include <limits>

namespace node::app {

namespace po = boost::program_options;

namespace {

// Largest accepted --max-batch and --cv-folds.
constexpr long max_batch_limit = 1'000'000;
constexpr int max_cv_folds = 100;
constexpr std::size_t max_model_id = 64;

std::string check_range(const char* flag, int value, int low, int high) {
  if (value < low || value > high) {
    return std::string("--") + flag + " must be between " + std::to_string(low) + " and " +
           std::to_string(high) + ", got " + std::to_string(value);
  }
  return {};
}

// A model id names the model in URLs (/v2/models/{id}): letters, digits, '_', '-', '.'.
bool valid_model_id(const std::string& id) {
  if (id.empty() || id.size() > max_model_id) return false;
  for (char ch : id) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

po::options_description model_options() {
  po::options_description model("Model (--role=model)");
  // clang-format off
  model.add_options()
      ("algorithm", po::value<std::string>()->default_value("random_forest")->value_name("NAME"),
       "random_forest, decision_tree, knn, liar (always a wrong class) or random")
      ("dataset", po::value<std::string>()->value_name("PATH"),
       "CSV file with a header row to train on (default: the built-in Iris data)")
      ("label", po::value<std::string>()->value_name("COLUMN"),
       "label column of --dataset (default: the last column)")
      ("trees", po::value<int>()->default_value(100)->value_name("N"),
       "random_forest and liar: number of trees")
      ("max-depth", po::value<int>()->default_value(0)->value_name("N"),
       "tree depth limit (0: unlimited)")
      ("k", po::value<int>()->default_value(5)->value_name("N"), "knn: number of neighbours")
      ("seed", po::value<std::string>()->default_value("42")->value_name("N"),
       "random seed of random_forest, liar and random")
      ("cv-folds", po::value<int>()->default_value(5)->value_name("N"),
       "stratified folds of the cross-validation run at start-up (0: none)")
      ("model-id", po::value<std::string>()->value_name("ID"),
       "the model's name in answers and V2 URLs (default: the algorithm)")
      ("max-batch", po::value<long>()->default_value(10000)->value_name("N"),
       "instances accepted in one POST /predict or V2 infer request");
  // clang-format on
  return model;
}

std::string read_model_options(const po::variables_map& vm, node_config& cfg) {
  auto& m = cfg.model;
  m.algorithm = vm["algorithm"].as<std::string>();
  m.trees = vm["trees"].as<int>();
  m.max_depth = vm["max-depth"].as<int>();
  m.k = vm["k"].as<int>();
  m.cv_folds = vm["cv-folds"].as<int>();

  const std::string seed = vm["seed"].as<std::string>();
  auto [end, ec] = std::from_chars(seed.data(), seed.data() + seed.size(), m.seed);
  if (ec != std::errc() || seed.empty() || end != seed.data() + seed.size()) {
    return "invalid --seed '" + seed + "': expected an integer from 0 to 18446744073709551615";
  }
  for (auto err : {check_range("trees", m.trees, 1, ml::max_trees),
                   check_range("max-depth", m.max_depth, 0, std::numeric_limits<int>::max()),
                   check_range("k", m.k, 1, std::numeric_limits<int>::max())}) {
    if (!err.empty()) return err;
  }
  if (m.cv_folds != 0) {
    if (auto err = check_range("cv-folds", m.cv_folds, 2, max_cv_folds); !err.empty()) {
      return err + " (or 0 for no cross-validation)";
    }
  }
  const long batch = vm["max-batch"].as<long>();
  if (batch < 1 || batch > max_batch_limit) {
    return "--max-batch must be between 1 and " + std::to_string(max_batch_limit) + ", got " +
           std::to_string(batch);
  }
  m.max_batch = static_cast<std::size_t>(batch);

  // The ranges are checked above, so only the algorithm's name can be at fault here.
  ml::classifier_options opts{m.trees, m.max_depth, m.k, m.seed};
  if (auto made = ml::make_classifier(m.algorithm, opts); !made) {
    return "invalid --algorithm: " + made.error().message;
  }

  m.model_id = vm.count("model-id") != 0 ? vm["model-id"].as<std::string>() : m.algorithm;
  if (!valid_model_id(m.model_id)) {
    return "invalid --model-id '" + m.model_id + "': expected 1 to " +
           std::to_string(max_model_id) + " letters, digits, '_', '-' or '.'";
  }

  m.label = vm.count("label") != 0 ? vm["label"].as<std::string>() : std::string();
  if (vm.count("dataset") != 0) {
    m.dataset_path = vm["dataset"].as<std::string>();
    auto loaded = ml::load_csv(m.dataset_path, m.label);
    if (!loaded) return "invalid --dataset: " + loaded.error().message;
    m.data = std::make_shared<const ml::dataset>(std::move(*loaded));
  } else {
    if (!m.label.empty()) return "--label applies to a --dataset file; the built-in Iris has none";
    m.data = std::make_shared<const ml::dataset>(ml::iris());
  }

  if (m.cv_folds != 0) {
    if (auto folds = ml::stratified_folds(m.data->labels, m.cv_folds); !folds) {
      return "invalid --cv-folds: " + folds.error().message + " in dataset '" + m.data->name +
             "' (0 turns cross-validation off)";
    }
  }
  return {};
}

}  // namespace node::app
