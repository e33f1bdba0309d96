// base/: the registry, typed parameters, Points and the content cache.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "base/content_cache.h"
#include "base/csv.h"
#include "base/params.h"
#include "base/point.h"
#include "base/registry.h"

namespace {

enum class Mode { Fast, Slow };
struct Item {
  int64_t size = 0;
  double cost = 0;
};
struct Conf {
  std::string name;
  int lanes = 0;
  double clock = 0;
  bool fold = false;
  int64_t pb = 0;
  Mode mode = Mode::Fast;
  std::vector<Item> items;
};

const sushi::ParamSchema<Item>& item_schema() {
  static const sushi::ParamSchema<Item> s =
      sushi::ParamSchema<Item>("item", "a size class")
          .bytes("size", &Item::size, sushi::required, {1, 1e12}, "bytes")
          .real("cost", &Item::cost, 0.5, {0, 10}, "pJ", "cost");
  return s;
}

const sushi::ParamSchema<Conf>& conf_schema() {
  static const sushi::ParamSchema<Conf> s =
      sushi::ParamSchema<Conf>("conf", "a test component")
          .string("name", &Conf::name, sushi::required, "its name")
          .integer("array.lanes", &Conf::lanes, 16, {1, 64}, "", "lanes")
          .real("array.clock", &Conf::clock, 100.0, {0, 1000, true}, "MHz", "clock")
          .boolean("array.fold", &Conf::fold, true, "fold")
          .bytes("buffers.pb", &Conf::pb, 0, {0, 1e12}, "PB bytes")
          .choice("mode", &Conf::mode, Mode::Slow, {{"fast", Mode::Fast}, {"slow", Mode::Slow}}, "mode")
          .list("items", &Conf::items, item_schema(), 0, "size classes")
          .check("buffers.pb", [](const Conf& c) { return c.pb % 2 ? "expected an even size" : ""; });
  return s;
}

Conf parse(const std::string& text) {
  return conf_schema().parse(sushi::YamlView::parse(text, "t.yaml"));
}

struct Header {
  std::string id;
};
struct Lists : Header {
  std::vector<int> depth, kernel;
  std::vector<double> ratio;
  std::map<int, double> coupling;
};

const sushi::ParamSchema<Header>& header_schema() {
  static const sushi::ParamSchema<Header> s =
      sushi::ParamSchema<Header>("header", "a shared header")
          .string("id", &Header::id, sushi::required, "its id")
          .check("id", [](const Header& h) { return h.id == "bad" ? "expected a good id" : ""; });
  return s;
}

const sushi::ParamSchema<Lists>& lists_schema() {
  static const sushi::ParamSchema<Lists> s =
      sushi::ParamSchema<Lists>("lists", "lists of scalars")
          .include(header_schema())
          .int_list("e.depth", &Lists::depth, sushi::required, {1, 64}, 1, "blocks", "depth choices")
          .int_list("e.kernel", &Lists::kernel, std::vector<int>{3}, {1, 15}, 1, "", "kernel choices")
          .real_list("e.ratio", &Lists::ratio, std::vector<double>{}, {0, 4, true}, 0, "", "ratios")
          .int_real_map("e.coupling", &Lists::coupling, {1, 64}, {0, 8, true}, "", "depth: ratio");
  return s;
}

Lists parse_lists(const std::string& text) {
  return lists_schema().parse(sushi::YamlView::parse(text, "l.yaml"));
}

struct Widget {
  static constexpr const char* kRegistryKind = "test_widget";
  using Factory = std::function<std::unique_ptr<Widget>(int)>;
  virtual ~Widget() = default;
  virtual int value() const = 0;
};
struct Doubler : Widget {
  explicit Doubler(int x) : x_(x) {}
  int value() const override { return 2 * x_; }
  int x_;
};
SUSHI_REGISTER(Widget, "doubler", "doubles", [](int x) { return std::make_unique<Doubler>(x); });

}  // namespace

TEST_CASE("params: defaults, nesting, bytes suffixes, choices and lists") {
  const Conf c =
      parse("name: a\narray: {lanes: 8}\nbuffers: {pb: 2MiB}\nitems: [{size: 64KiB}, {size: 1, cost: 2}]\n");
  CHECK(c.name == "a");
  CHECK(c.lanes == 8);
  CHECK(c.clock == 100.0);
  CHECK(c.fold);
  CHECK(c.pb == 2 * 1024 * 1024);
  CHECK(c.mode == Mode::Slow);
  REQUIRE(c.items.size() == 2);
  CHECK(c.items[0].size == 65536);
  CHECK(c.items[0].cost == 0.5);
  CHECK(c.items[1].cost == 2);
  sushi::JsonWriter w;
  conf_schema().write(w, c);
  CHECK(w.str() ==
        "{\"name\":\"a\",\"array\":{\"lanes\":8,\"clock\":100,\"fold\":true},\"buffers\":{\"pb\":2097152},"
        "\"mode\":\"slow\",\"items\":[{\"size\":65536,\"cost\":0.5},{\"size\":1,\"cost\":2}]}");
}

TEST_CASE("params: errors name the file, key and what was expected") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(parse("array: {lanes: 8}\n"), Contains("t.yaml") && Contains("name"));
  CHECK_THROWS_WITH(parse("name: a\narray: {lanes: 99}\n"), Contains("array.lanes") && Contains("[1, 64]"));
  CHECK_THROWS_WITH(parse("name: a\narray: {clock: .nan}\n"), Contains("array.clock"));
  CHECK_THROWS_WITH(parse("name: a\narray: {clock: 0}\n"), Contains("(0, 1000]"));
  CHECK_THROWS_WITH(parse("name: a\narray: {lane: 8}\n"), Contains("lane"));
  CHECK_THROWS_WITH(parse("name: a\nmode: medium\n"), Contains("fast | slow"));
  CHECK_THROWS_WITH(parse("name: a\nbuffers: {pb: 3}\n"), Contains("buffers.pb") && Contains("even"));
  CHECK_THROWS_WITH(parse("name: a\nbuffers: {pb: 1XB}\n"), Contains("size in bytes"));
  CHECK_THROWS_WITH(parse("name: a\nitems: [{cost: 1}]\n"), Contains("size"));
}

TEST_CASE("params: path validation and describe come from the declaration") {
  CHECK(conf_schema().check_path("array.lanes").empty());
  CHECK(conf_schema().check_path("items.1.cost").empty());
  CHECK_THAT(conf_schema().check_path("array.lane"), Catch::Matchers::Contains("not a parameter of conf"));
  CHECK_THAT(conf_schema().check_path("items.x.cost"), Catch::Matchers::Contains("INDEX"));
  const std::string d = conf_schema().describe_text();
  CHECK_THAT(d, Catch::Matchers::Contains("array.clock") && Catch::Matchers::Contains("unit MHz") &&
                    Catch::Matchers::Contains("(required)") && Catch::Matchers::Contains("{fast|slow}"));
  CHECK(sushi::parse_bytes("4 KiB") == 4096);
  CHECK(sushi::parse_bytes("2GB") == 2000000000);
  CHECK(!sushi::parse_bytes("-1"));
  CHECK(!sushi::parse_bytes("99999999999999999999"));
}

TEST_CASE("params: lists of scalars, an int-keyed map and an included header") {
  using Catch::Matchers::Contains;
  const Lists l = parse_lists("id: x\ne: {depth: [2, 3], ratio: [0.5, 1.5], coupling: {2: 3, 3: 4.5}}\n");
  CHECK(l.id == "x");
  CHECK(l.depth == std::vector<int>{2, 3});
  CHECK(l.kernel == std::vector<int>{3});
  CHECK(l.ratio == std::vector<double>{0.5, 1.5});
  CHECK(l.coupling == std::map<int, double>{{2, 3.0}, {3, 4.5}});
  sushi::JsonWriter w;
  lists_schema().write(w, l);
  CHECK(w.str() ==
        "{\"id\":\"x\",\"e\":{\"depth\":[2,3],\"kernel\":[3],\"ratio\":[0.5,1.5],"
        "\"coupling\":{\"2\":3,\"3\":4.5}}}");
  CHECK_THROWS_WITH(parse_lists("id: x\n"), Contains("l.yaml") && Contains("'e'"));
  CHECK_THROWS_WITH(parse_lists("id: x\ne: {depth: []}\n"),
                    Contains("e.depth") && Contains("at least 1 integers in [1, 64]"));
  CHECK_THROWS_WITH(parse_lists("id: x\ne: {depth: 2}\n"), Contains("e.depth") && Contains("a list"));
  CHECK_THROWS_WITH(parse_lists("id: x\ne: {depth: [2, 99]}\n"), Contains("e.depth[1]") && Contains("99"));
  CHECK_THROWS_WITH(parse_lists("id: x\ne: {depth: [2, two]}\n"), Contains("e.depth[1]"));
  CHECK_THROWS_WITH(parse_lists("id: x\ne: {depth: [2], ratio: [0]}\n"), Contains("(0, 4]"));
  CHECK_THROWS_WITH(parse_lists("id: x\ne: {depth: [2], coupling: {0: 1}}\n"), Contains("e.coupling"));
  CHECK_THROWS_WITH(parse_lists("id: x\ne: {depth: [2], coupling: [1]}\n"), Contains("mapping"));
  CHECK_THROWS_WITH(parse_lists("id: bad\ne: {depth: [2]}\n"), Contains("'id'") && Contains("good id"));
  CHECK_THROWS_WITH(parse_lists("id: x\nextra: 1\ne: {depth: [2]}\n"), Contains("extra"));
  // parse_declared() leaves keys it does not declare to the caller.
  CHECK(header_schema().parse_declared(sushi::YamlView::parse("id: y\nextra: 1\n", "h.yaml")).id == "y");
  CHECK_THROWS_WITH(header_schema().parse(sushi::YamlView::parse("id: y\nextra: 1\n", "h.yaml")),
                    Contains("extra"));
  const std::string d = lists_schema().describe_text();
  CHECK_THAT(d, Contains("e.depth") && Contains("int list") && Contains("each in [1, 64]") &&
                    Contains("at least 1") && Contains("default [3]") && Contains("id"));
  CHECK(lists_schema().check_path("e.ratio").empty());
}

TEST_CASE("registry: self-registered implementations, errors list the known names") {
  CHECK(sushi::Registry<Widget>::get("doubler", "w")(21)->value() == 42);
  CHECK_THROWS_WITH(sushi::Registry<Widget>::get("tripler", "f.yaml: key impl"),
                    Catch::Matchers::Contains("f.yaml: key impl: unknown test_widget 'tripler'") &&
                        Catch::Matchers::Contains("doubler"));
  REQUIRE(sushi::ComponentIndex::find("test_widget", "doubler"));
  CHECK(sushi::ComponentIndex::find("test_widget", "doubler")->doc == "doubles");
}

TEST_CASE("point: overrides by dotted path, canonical form and hash") {
  sushi::Point a = sushi::Point::parse("name: a\narray: {lanes: 8}\nitems: [{size: 1}]\n", "a.yaml");
  sushi::Point b = sushi::Point::parse("items:\n  - size: 1\narray:\n  lanes: 8\nname: a\n", "b.yaml");
  CHECK(a.canonical() == b.canonical());
  CHECK(a.hash() == b.hash());
  a.apply({sushi::parse_override("conf.array.lanes=32"), sushi::parse_override("conf.items.0.cost=2"),
           sushi::parse_override("other.x=1")},
          "conf", conf_schema());
  CHECK(a.canonical() ==
        "{\"array\":{\"lanes\":\"32\"},\"items\":[{\"cost\":\"2\",\"size\":\"1\"}],\"name\":\"a\"}");
  CHECK(a.hash() != b.hash());
  CHECK(conf_schema().parse(a.view()).lanes == 32);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(a.apply({sushi::parse_override("conf.array.lane=3")}, "conf", conf_schema()),
                    Contains("conf.array.lane=3") && Contains("not a parameter of conf"));
  // A bad value names the flag that gave it, not the file line of the key it replaces.
  CHECK_THROWS_WITH(
      a.apply({sushi::parse_override("conf.array.lanes=many")}, "conf", conf_schema()),
      Contains("--set conf.array.lanes=many: key 'array.lanes'") && Contains("expected an integer"));
  CHECK(conf_schema().parse(a.view()).lanes == 32);  // the bad value was not set
  CHECK_THROWS_WITH(a.set("items.5.size", "1"), Contains("not an index"));
  CHECK_THROWS_WITH(a.set("array", "1"), Contains("is a section"));
  CHECK_THROWS_WITH(sushi::parse_override("array.lanes"), Contains("PATH=VALUE"));
  CHECK_THROWS_WITH(sushi::parse_override("=3"), Contains("PATH=VALUE"));
}

TEST_CASE("content cache: one computation per key across threads, failures not cached") {
  sushi::ContentCache<int> cache;
  std::atomic<int> computed{0};
  std::atomic<int> wrong{0};  // Catch2 assertions are not thread-safe: count in the threads, check after
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (*cache.get("k" + std::to_string(i % 5), [&] {
              ++computed;
              return i % 5;
            }) != i % 5)
          ++wrong;
    });
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
  CHECK(computed == 5);
  CHECK(cache.misses() == 5);
  CHECK(cache.hits() == 195);
  CHECK_THROWS(cache.get("bad", []() -> int { throw std::runtime_error("no"); }));
  CHECK(*cache.get("bad", [] { return 7; }) == 7);
}

TEST_CASE(
    "csv: cells are quoted only when needed and split back exactly, numbers read only from whole cells") {
  using sushi::csv_cell;
  using sushi::split_csv_line;
  const std::vector<std::string> cells = {"plain", "a,b", "say \"hi\"", "", "{\"ks\":[3,5]}"};
  std::string line;
  for (const std::string& c : cells) line += (line.empty() ? "" : ",") + csv_cell(c);
  CHECK(csv_cell("plain") == "plain");
  CHECK(csv_cell("a,b") == "\"a,b\"");
  CHECK(split_csv_line(line, "t.csv: line 1") == cells);
  CHECK(split_csv_line(line + "\r", "t.csv: line 1") == cells);
  CHECK(split_csv_line("1,2,", "x").size() == 3);  // a trailing comma is an empty last cell
  CHECK_THROWS_WITH(split_csv_line("1,\"open", "t.csv: line 7"),
                    Catch::Matchers::Contains("t.csv: line 7: unterminated quoted cell"));
  CHECK(sushi::parse_number("12") == 12.0);
  CHECK(sushi::parse_number("-0.5e-3") == -0.5e-3);
  for (const char* bad : {"", "1.5ms", "nan", "inf", "1e999", "0x", "one"})
    CHECK_FALSE(sushi::parse_number(bad).has_value());
}
