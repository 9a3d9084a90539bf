// Tests for the json file backend: the file's shape, atomic rewrites and open errors.
#include "node/store/json_backend.hpp"

#include "store_fixture.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace node::store;
using namespace node::store::test;

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace

TEST_CASE("store: the json file holds meta and collections, one document a line", "[unit]") {
  temp_dir dir;
  const auto file = dir.path() / "shop.json";
  asio::io_context io;
  auto s = open_store("json:" + file.string(), io);
  REQUIRE(run_txn(io, s, [](txn& t) -> txn_result {
            const auto id = t.next_id("products");
            t.put("products", std::to_string(id), {{"name", "Pen"}, {"price", 1005.0}});
            t.put("carts", "alice", {{"items", json::array{}}});
            return json::value(id);
          }).has_value());

  const std::string text = read_text(file);
  CHECK(text.find("\n      \"1\": {\"name\":\"Pen\",\"price\":1005.0}") != std::string::npos);
  const json::value doc = json::parse(text);
  CHECK(doc.at("meta").at("lsn") == 1);
  CHECK(doc.at("meta").at("history").as_string() == s->history());
  CHECK(doc.at("meta").at("next_ids").at("products") == 1);
  CHECK(doc.at("collections").at("products").at("1").at("name") == "Pen");
  CHECK(doc.at("collections").at("carts").at("alice").at("items") == json::array{});
}

TEST_CASE("store: json documents round-trip through the file format", "[unit]") {
  memory_backend::state s;
  s.lsn = 7;
  s.history = "abc";
  s.next_ids["orders"] = 12;
  s.collections["orders"]["12"] = {{"total", 0.3}};
  s.collections["orders"]["2"] = {{"total", 2.0}};
  s.collections["empty"];
  const auto back = json_backend::from_document(json_backend::to_document(s));
  REQUIRE(back.has_value());
  CHECK(back->lsn == 7);
  CHECK(back->history == "abc");
  CHECK(back->next_ids.at("orders") == 12);
  CHECK(back->collections.at("orders").at("12").at("total") == 0.3);
  CHECK(back->collections.at("orders").begin()->first == "2");
  CHECK(back->collections.at("empty").empty());
}

TEST_CASE("store: a torn temp file is ignored when the json store reopens", "[unit]") {
  temp_dir dir;
  const auto file = dir.path() / "shop.json";
  const std::string spec = "json:" + file.string();
  asio::io_context io;
  {
    auto s = open_store(spec, io);
    REQUIRE(run_txn(io, s, put_fn("products", "1", {{"stock", 4}})).has_value());
  }
  write_text(file.string() + ".tmp", "{\"meta\":{\"lsn\":99,\"hist");
  auto s = open_store(spec, io);
  CHECK(s->lsn() == 1);
  CHECK(s->get("products", "1")->at("stock") == 4);
  CHECK_FALSE(std::filesystem::exists(file.string() + ".tmp"));
}

TEST_CASE("store: an unreadable json file is an open error naming the file", "[unit]") {
  temp_dir dir;
  const auto file = dir.path() / "shop.json";
  asio::io_context io;
  const auto reason = GENERATE(as<std::string>{}, "{\"meta\":", "[1,2]",
                               R"({"meta":{"lsn":-1,"history":"h"},"collections":{}})",
                               R"({"meta":{"lsn":1,"history":"h"},"collections":{"a":{"1":2}}})");
  write_text(file, reason);
  const auto s = store::open("json:" + file.string(), io.get_executor());
  INFO(reason);
  REQUIRE(s.has_error());
  CHECK(s.error().message.find(file.string()) != std::string::npos);
  CHECK(read_text(file) == reason);
}

TEST_CASE("store: a failed json commit answers 503 and changes nothing", "[unit]") {
  temp_dir dir;
  const auto file = dir.path() / "shop.json";
  asio::io_context io;
  auto s = open_store("json:" + file.string(), io);
  std::vector<std::uint64_t> published;
  const auto sub = s->subscribe([&](const batch_ref& b) { published.push_back(b->lsn); });
  REQUIRE(run_txn(io, s, put_fn("products", "1", {{"stock", 4}})).has_value());

  // A directory where the temp file goes makes the rewrite fail.
  std::filesystem::create_directories(file.string() + ".tmp/blocker");
  const auto failed = run_txn(io, s, [](txn& t) -> txn_result {
    t.put("products", "1", {{"stock", 0}});
    t.put("products", "2", {{"stock", 9}});
    return json::value(nullptr);
  });
  REQUIRE(failed.has_error());
  CHECK(failed.error().status == 503);
  CHECK(s->stats().commit_failures == 1);
  CHECK_FALSE(s->healthy());
  CHECK(s->lsn() == 1);
  CHECK(s->get("products", "1")->at("stock") == 4);
  CHECK(published == std::vector<std::uint64_t>{1});

  std::filesystem::remove_all(file.string() + ".tmp");
  const auto after = run_txn(io, s, [](txn& t) -> txn_result {
    t.put("products", "3", {});
    return json::value(t.get("products", "1")->at("stock") == 4 && !t.get("products", "2"));
  });
  REQUIRE(after.has_value());
  CHECK(after->as_bool());
  CHECK(s->healthy());
  CHECK(s->lsn() == 2);
  CHECK(published == std::vector<std::uint64_t>{1, 2});
  CHECK(json::parse(read_text(file)).at("meta").at("lsn") == 2);
}
