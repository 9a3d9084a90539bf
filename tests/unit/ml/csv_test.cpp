#include "node/ml/csv.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using node::ml::load_csv;
using node::ml::parse_csv;

namespace {

// The error message of a parse that must fail.
std::string parse_error(std::string_view text, std::string_view label_column = {}) {
  auto r = parse_csv(text, "data.csv", label_column);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().status == 400);
  CHECK(r.error().code == "bad_request");
  return r.error().message;
}

// A fresh directory under the system temp directory, removed with the object.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("node-ml-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

}  // namespace

TEST_CASE("ml: csv numbers classes in order of first appearance", "[unit]") {
  auto d = parse_csv("x,y,kind\n1,2,b\n3,4,a\n5,6,b\n7,8,c\n", "data.csv");
  REQUIRE(d.has_value());
  CHECK(d->feature_names == std::vector<std::string>{"x", "y"});
  CHECK(d->class_names == std::vector<std::string>{"b", "a", "c"});
  CHECK(d->labels == std::vector<int>{0, 1, 0, 2});
  CHECK(d->rows == std::vector<std::vector<double>>{{1, 2}, {3, 4}, {5, 6}, {7, 8}});
  CHECK(d->feature_aliases.empty());
}

TEST_CASE("ml: csv label column can be named and sit anywhere", "[unit]") {
  auto d = parse_csv("species,a,b\nx,1.5,-2\ny,3e1,+4\n", "data.csv", "species");
  REQUIRE(d.has_value());
  CHECK(d->feature_names == std::vector<std::string>{"a", "b"});
  CHECK(d->rows == std::vector<std::vector<double>>{{1.5, -2}, {30, 4}});
  CHECK(d->class_names == std::vector<std::string>{"x", "y"});
}

TEST_CASE("ml: csv accepts CRLF, blank lines, spaces and quoted fields", "[unit]") {
  auto d =
      parse_csv("\r\n a , b ,\"the label\"\r\n1, 2 ,\"one, two\"\r\n\r\n3,4,\"say \"\"hi\"\"\"\r\n",
                "data.csv");
  REQUIRE(d.has_value());
  CHECK(d->feature_names == std::vector<std::string>{"a", "b"});
  CHECK(d->class_names == std::vector<std::string>{"one, two", "say \"hi\""});
  CHECK(d->rows.size() == 2);
}

TEST_CASE("ml: csv errors name the source, the line and the reason", "[unit]") {
  const std::string header = "sepal_length,sepal_width,species\n";
  CHECK(parse_error("") == "data.csv:1: the file is empty; a header row is required");
  CHECK(parse_error("\n  \n") == "data.csv:2: the file is empty; a header row is required");
  CHECK(parse_error(header + "1,2,a\n3,4,b\n5,abc,a\n") ==
        "data.csv:4: column 'sepal_width' is not a number: 'abc'");
  CHECK(parse_error(header + "1,,a\n") == "data.csv:2: column 'sepal_width' is not a number: ''");
  CHECK(parse_error(header + "1,2x,a\n") ==
        "data.csv:2: column 'sepal_width' is not a number: '2x'");
  CHECK(parse_error(header + "1,2,a\n\n3,4\n") == "data.csv:4: expected 3 fields, found 2");
  CHECK(parse_error(header + "1,2,a,9\n") == "data.csv:2: expected 3 fields, found 4");
  CHECK(parse_error(header + "inf,2,a\n") ==
        "data.csv:2: column 'sepal_length' is not finite: 'inf'");
  CHECK(parse_error(header + "1,nan,a\n") ==
        "data.csv:2: column 'sepal_width' is not finite: 'nan'");
  CHECK(parse_error(header + "1e999,2,a\n") ==
        "data.csv:2: column 'sepal_length' is not finite: '1e999'");
  CHECK(parse_error(header + "1,2,a\n3,4,a\n") ==
        "data.csv:3: label column 'species' has only one class ('a'); at least 2 are needed");
  CHECK(parse_error(header) == "data.csv:1: no data rows after the header");
  CHECK(parse_error(header + "1,2,\n") == "data.csv:2: label column 'species' is empty");
  CHECK(parse_error("only\n1\n") ==
        "data.csv:1: the header needs at least 2 columns (features and a label)");
  CHECK(parse_error("a,a,b\n") == "data.csv:1: duplicate column name 'a'");
  CHECK(parse_error("a,,b\n") == "data.csv:1: column 2 has an empty name");
  CHECK(parse_error(header + "1,2,\"a\n") ==
        "data.csv:2: unterminated quoted field, or text after a closing quote");
  CHECK(parse_error(header + "1,2,\"a\"b\n") ==
        "data.csv:2: unterminated quoted field, or text after a closing quote");
}

TEST_CASE("ml: csv unknown label column lists the columns", "[unit]") {
  auto r = parse_csv("a,b,c\n1,2,x\n3,4,y\n", "data.csv", "label");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "data.csv:1: unknown label column 'label'; columns are: a, b, c");
  CHECK(r.error().field == "label_column");
}

TEST_CASE("ml: load_csv reads a file, names the dataset after it and reports file errors",
          "[unit]") {
  temp_dir dir;
  std::string text = "sepal_length,sepal_width,petal_length,petal_width,species\n";
  text += "5.1,3.5,1.4,0.2,setosa\n6.7,3.0,5.2,2.3,virginica\n";
  const auto good = dir.write("flowers.csv", text);
  auto d = load_csv(good);
  REQUIRE(d.has_value());
  CHECK(d->name == "flowers");
  CHECK(d->size() == 2);
  CHECK(d->class_names == std::vector<std::string>{"setosa", "virginica"});

  const auto bad = dir.write("bad.csv", "a,b\n1,x\n2,y\nzz,x\n");
  auto e = load_csv(bad);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().message == bad.string() + ":4: column 'a' is not a number: 'zz'");

  auto missing = load_csv(dir.path / "nope.csv");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message == (dir.path / "nope.csv").string() + ": cannot open the file");

  auto directory = load_csv(dir.path);
  REQUIRE_FALSE(directory.has_value());
  CHECK(directory.error().message.rfind(dir.path.string() + ": ", 0) == 0);
}

TEST_CASE("ml: csv of the iris data reads back as the built-in iris", "[unit]") {
  const auto& iris = node::ml::iris();
  std::string text = "sepal_length,sepal_width,petal_length,petal_width,species\n";
  char buf[64];
  for (std::size_t i = 0; i < iris.size(); ++i) {
    for (double v : iris.rows[i]) {
      std::snprintf(buf, sizeof buf, "%.17g,", v);
      text += buf;
    }
    text += iris.class_names[static_cast<std::size_t>(iris.labels[i])] + "\n";
  }
  auto d = parse_csv(text, "iris.csv");
  REQUIRE(d.has_value());
  CHECK(d->feature_names == iris.feature_names);
  CHECK(d->class_names == iris.class_names);
  CHECK(d->rows == iris.rows);
  CHECK(d->labels == iris.labels);
}
