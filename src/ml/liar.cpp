// The liar: a random forest whose answer is shifted to the next class.
#include "node/ml/liar.hpp"

namespace node::ml {

void liar::do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
                  int n_classes) {
  forest_.fit(rows, labels, n_classes);
}

void liar::do_predict_proba(std::span<const double> row, std::span<double> out) const {
  const int honest = forest_.predict(row);
  out[static_cast<std::size_t>((honest + 1) % n_classes())] = 1.0;
}

}  // namespace node::ml
