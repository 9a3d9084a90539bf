// CSV parsing into a dataset, with errors that name the source, the line and the reason.
#include "node/ml/csv.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace node::ml {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits one line into fields; nullopt on an unterminated quoted field or text after one.
std::optional<std::vector<std::string>> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) {
      ++start;
    }
    if (start < line.size() && line[start] == '"') {
      std::string field;
      std::size_t j = start + 1;
      bool closed = false;
      while (j < line.size()) {
        if (line[j] == '"') {
          if (j + 1 < line.size() && line[j + 1] == '"') {
            field += '"';
            j += 2;
            continue;
          }
          closed = true;
          ++j;
          break;
        }
        field += line[j++];
      }
      if (!closed) {
        return std::nullopt;
      }
      const std::size_t comma = line.find(',', j);
      if (!trim(line.substr(j, comma == std::string_view::npos ? comma : comma - j)).empty()) {
        return std::nullopt;
      }
      fields.push_back(std::move(field));
      if (comma == std::string_view::npos) {
        break;
      }
      i = comma + 1;
    } else {
      const std::size_t comma = line.find(',', i);
      fields.emplace_back(
          trim(line.substr(i, comma == std::string_view::npos ? comma : comma - i)));
      if (comma == std::string_view::npos) {
        break;
      }
      i = comma + 1;
    }
  }
  return fields;
}

bool blank(std::string_view line) {
  return trim(line).empty();
}

}  // namespace

core::result<dataset> parse_csv(std::string_view text, std::string_view source,
                                std::string_view label_column, std::string name) {
  const std::string src(source);
  auto fail = [&](std::size_t line, const std::string& reason, std::string field = {}) {
    return core::bad_request(src + ":" + std::to_string(line) + ": " + reason, std::move(field));
  };

  dataset d;
  d.name = std::move(name);
  std::vector<std::string> header;
  std::size_t label_index = 0;
  std::unordered_map<std::string, int> class_ids;
  std::size_t line_no = 0;
  std::size_t last_data_line = 0;

  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (blank(line)) {
      continue;
    }
    auto fields = split_fields(line);
    if (!fields) {
      return fail(line_no, "unterminated quoted field, or text after a closing quote");
    }

    if (header.empty()) {
      header = std::move(*fields);
      if (header.size() < 2) {
        return fail(line_no, "the header needs at least 2 columns (features and a label)");
      }
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i].empty()) {
          return fail(line_no, "column " + std::to_string(i + 1) + " has an empty name");
        }
        for (std::size_t j = 0; j < i; ++j) {
          if (header[j] == header[i]) {
            return fail(line_no, "duplicate column name '" + header[i] + "'");
          }
        }
      }
      if (label_column.empty()) {
        label_index = header.size() - 1;
      } else {
        label_index = header.size();
        for (std::size_t i = 0; i < header.size(); ++i) {
          if (header[i] == label_column) {
            label_index = i;
          }
        }
        if (label_index == header.size()) {
          std::string names;
          for (const auto& h : header) {
            names += (names.empty() ? "" : ", ") + h;
          }
          return fail(
              line_no,
              "unknown label column '" + std::string(label_column) + "'; columns are: " + names,
              "label_column");
        }
      }
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (i != label_index) {
          d.feature_names.push_back(header[i]);
        }
      }
      continue;
    }

    if (fields->size() != header.size()) {
      return fail(line_no, "expected " + std::to_string(header.size()) + " fields, found " +
                               std::to_string(fields->size()));
    }
    std::vector<double> row;
    row.reserve(header.size() - 1);
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (i == label_index) {
        continue;
      }
      const std::string& f = (*fields)[i];
      std::string_view digits = f;
      if (!digits.empty() && digits.front() == '+') {
        digits.remove_prefix(1);
      }
      double v = 0;
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      const bool consumed = ptr == digits.data() + digits.size() && !digits.empty();
      if (ec == std::errc::result_out_of_range && consumed) {
        return fail(line_no, "column '" + header[i] + "' is not finite: '" + f + "'");
      }
      if (ec != std::errc() || !consumed) {
        return fail(line_no, "column '" + header[i] + "' is not a number: '" + f + "'");
      }
      if (!std::isfinite(v)) {
        return fail(line_no, "column '" + header[i] + "' is not finite: '" + f + "'");
      }
      row.push_back(v);
    }
    const std::string& label = (*fields)[label_index];
    if (label.empty()) {
      return fail(line_no, "label column '" + header[label_index] + "' is empty");
    }
    auto [it, inserted] = class_ids.try_emplace(label, static_cast<int>(d.class_names.size()));
    if (inserted) {
      d.class_names.push_back(label);
    }
    d.rows.push_back(std::move(row));
    d.labels.push_back(it->second);
    last_data_line = line_no;
  }

  if (header.empty()) {
    return fail(line_no == 0 ? 1 : line_no, "the file is empty; a header row is required");
  }
  if (d.rows.empty()) {
    return fail(line_no, "no data rows after the header");
  }
  if (d.class_names.size() < 2) {
    return fail(last_data_line, "label column '" + header[label_index] + "' has only one class ('" +
                                    d.class_names.front() + "'); at least 2 are needed");
  }
  return d;
}

core::result<dataset> load_csv(const std::filesystem::path& path, std::string_view label_column) {
  const std::string shown = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::bad_request(shown + ": cannot open the file");
  }
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_csv_bytes) {
      return core::bad_request(shown + ": the file is larger than " +
                               std::to_string(max_csv_bytes) + " bytes");
    }
  }
  if (in.bad()) {
    return core::bad_request(shown + ": cannot read the file");
  }
  return parse_csv(text, shown, label_column, path.stem().string());
}

}  // namespace node::ml
