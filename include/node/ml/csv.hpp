// Reading a dataset from CSV text or a CSV file.
#pragma once

#include "node/core/error.hpp"
#include "node/ml/dataset.hpp"

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace node::ml {

// Largest CSV file load_csv reads.
inline constexpr std::size_t max_csv_bytes = 64u << 20;

// Parses CSV text into a dataset named `name`. The first non-blank line is the header; blank
// lines are skipped; fields are trimmed of spaces and tabs and may be double-quoted ("" is a
// quote; a quoted field cannot span lines); CRLF line ends are accepted. `label_column` names the
// label column (empty = the last column); every other column is a numeric feature. Classes are
// numbered in order of first appearance.
// Fails with bad_request whose message reads "<source>:<line>: <reason>": empty input, a header
// with fewer than 2 columns or an empty or duplicate name, an unknown label column (field
// "label_column"), a row with the wrong number of fields, a feature that is not a number or not
// finite, an empty label, an unterminated quote or text after a closing one, no data rows, or fewer
// than 2 classes.
core::result<dataset> parse_csv(std::string_view text, std::string_view source,
                                std::string_view label_column = {}, std::string name = {});

// Reads and parses the CSV file at `path` (see parse_csv); the dataset is named after the file's
// stem and errors name the file as given. Also fails with bad_request when the file cannot be
// read or is larger than max_csv_bytes.
core::result<dataset> load_csv(const std::filesystem::path& path,
                               std::string_view label_column = {});

}  // namespace node::ml
