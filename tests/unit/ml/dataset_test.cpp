#include "node/ml/dataset.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using node::ml::iris;

TEST_CASE("ml: iris has 150 rows of 4 features in 3 classes of 50, in UCI order", "[unit]") {
  const auto& d = iris();
  REQUIRE(d.size() == 150);
  REQUIRE(d.labels.size() == 150);
  CHECK(d.name == "iris");
  CHECK(d.n_features() == 4);
  CHECK(d.feature_names ==
        std::vector<std::string>{"sepal_length", "sepal_width", "petal_length", "petal_width"});
  CHECK(d.class_names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
  for (std::size_t i = 0; i < d.size(); ++i) {
    REQUIRE(d.rows[i].size() == 4);
    CHECK(d.labels[i] == static_cast<int>(i / 50));
  }
}

TEST_CASE("ml: iris rows match the published values", "[unit]") {
  const auto& d = iris();
  CHECK(d.rows[0] == std::vector<double>{5.1, 3.5, 1.4, 0.2});
  CHECK(d.rows[50] == std::vector<double>{7.0, 3.2, 4.7, 1.4});
  CHECK(d.rows[100] == std::vector<double>{6.3, 3.3, 6.0, 2.5});
  CHECK(d.rows[145] == std::vector<double>{6.7, 3.0, 5.2, 2.3});
  CHECK(d.rows[149] == std::vector<double>{5.9, 3.0, 5.1, 1.8});
  CHECK(d.labels[149] == 2);
  // The two UCI transcription errors, corrected as in scikit-learn.
  CHECK(d.rows[34] == std::vector<double>{4.9, 3.1, 1.5, 0.2});
  CHECK(d.rows[37] == std::vector<double>{4.9, 3.6, 1.4, 0.1});
}

TEST_CASE("ml: iris column sums and class means match the reference data", "[unit]") {
  const auto& d = iris();
  std::array<double, 4> sums{};
  std::array<std::array<double, 4>, 3> class_sums{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    for (std::size_t f = 0; f < 4; ++f) {
      sums[f] += d.rows[i][f];
      class_sums[static_cast<std::size_t>(d.labels[i])][f] += d.rows[i][f];
    }
  }
  CHECK(sums[0] == Approx(876.5).margin(1e-9));
  CHECK(sums[1] == Approx(458.6).margin(1e-9));
  CHECK(sums[2] == Approx(563.7).margin(1e-9));
  CHECK(sums[3] == Approx(179.9).margin(1e-9));
  const std::array<std::array<double, 4>, 3> means = {
      {{5.006, 3.428, 1.462, 0.246}, {5.936, 2.770, 4.260, 1.326}, {6.588, 2.974, 5.552, 2.026}}};
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t f = 0; f < 4; ++f) {
      CHECK(class_sums[c][f] / 50 == Approx(means[c][f]).margin(1e-9));
    }
  }
}

TEST_CASE("ml: feature_index accepts column names and iris short aliases", "[unit]") {
  const auto& d = iris();
  CHECK(d.feature_index("sepal_length") == 0u);
  CHECK(d.feature_index("petal_width") == 3u);
  CHECK(d.feature_index("sl") == 0u);
  CHECK(d.feature_index("sw") == 1u);
  CHECK(d.feature_index("pl") == 2u);
  CHECK(d.feature_index("pw") == 3u);
  CHECK_FALSE(d.feature_index("PL").has_value());
  CHECK_FALSE(d.feature_index("").has_value());
  CHECK_FALSE(d.feature_index("petal").has_value());
}

TEST_CASE("ml: iris is built once", "[unit]") {
  CHECK(&iris() == &iris());
}
