// Project conventions enforced as tests (Verilator style): no function of the project's own code is longer
// than 80 lines, so every function can be read on one screen; every clang-tidy suppression names its check
// and says why.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct LongFunction {
  std::string file;
  int line = 0, lines = 0;
  std::string head;
};

// Removes comments, string and character literals (keeping newlines), so braces inside them do not count.
std::string strip(const std::string& src) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    const char c = src[i];
    if (c == '/' && i + 1 < src.size() && src[i + 1] == '/') {
      while (i < src.size() && src[i] != '\n') ++i;
      out += '\n';
    } else if (c == '/' && i + 1 < src.size() && src[i + 1] == '*') {
      for (i += 2; i + 1 < src.size() && !(src[i] == '*' && src[i + 1] == '/'); ++i)
        if (src[i] == '\n') out += '\n';
      ++i;
    } else if (c == 'R' && i + 2 < src.size() && src[i + 1] == '"') {  // raw string R"d(...)d"
      const size_t open = src.find('(', i);
      const std::string delim = ")" + src.substr(i + 2, open - i - 2) + "\"";
      const size_t end = src.find(delim, open);
      for (size_t j = i; j < end; ++j)
        if (src[j] == '\n') out += '\n';
      i = end + delim.size() - 1;
      out += "\"\"";
    } else if (c == '"' || (c == '\'' && !(i > 0 && std::isxdigit(static_cast<unsigned char>(src[i - 1]))))) {
      for (++i; i < src.size() && src[i] != c; ++i)
        if (src[i] == '\\') ++i;
      out += "\"\"";
    } else {
      out += c;
    }
  }
  return out;
}

bool is_scope_head(const std::string& head) {
  for (const char* word : {"namespace", "class ", "struct ", "union ", "enum ", "extern \""})
    if (head.find(word) != std::string::npos && head.find('(') == std::string::npos) return true;
  return head.rfind("namespace", 0) == 0 || head.find("extern") == 0;
}

// Function bodies: a '{' outside parentheses, at namespace or class scope, after a head with a parameter list
// and no '='. Lambdas and blocks inside a body are part of that body.
void scan(const std::string& file, const std::string& text, int limit, std::vector<LongFunction>& found) {
  std::vector<bool> scope_is_body;  // per open brace: does it open a function body (or lie inside one)?
  std::string head;
  int line = 1, parens = 0, body_start = 0;
  std::string body_head;
  for (char c : text) {
    if (c == '\n') ++line;
    const bool in_body = !scope_is_body.empty() && scope_is_body.back();
    if (c == '(') ++parens;
    if (c == ')') --parens;
    if (c == '{' && !in_body) {
      const bool function = parens == 0 && head.find('(') != std::string::npos && !is_scope_head(head) &&
                            head.find('=') == std::string::npos;
      scope_is_body.push_back(function);
      if (function) {
        body_start = line;
        body_head = head;
      }
      head.clear();
      continue;
    }
    if (c == '{') scope_is_body.push_back(true);
    if (c == '}' && !scope_is_body.empty()) {
      const bool was_body = scope_is_body.back();
      scope_is_body.pop_back();
      if (was_body && (scope_is_body.empty() || !scope_is_body.back())) {
        if (line - body_start + 1 > limit)
          found.push_back({file, body_start, line - body_start + 1, body_head});
      }
      head.clear();
      continue;
    }
    if (!in_body) {
      if (c == ';' && parens == 0)
        head.clear();
      else if (c != '\n' || !head.empty())
        head += (c == '\n' ? ' ' : c);
      const size_t start = head.find_first_not_of(' ');
      if (start != 0) head = start == std::string::npos ? "" : head.substr(start);
    }
  }
}

// Every C++ source and header of the project's own code, as (path relative to root, text).
std::vector<std::pair<std::string, std::string>> project_sources(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> sources;
  for (const char* folder :
       {"base", "models", "sim", "rtl", "sched", "traces", "explore", "tools", "tests"}) {
    const std::filesystem::path dir = std::filesystem::path(root) / folder;
    if (!std::filesystem::exists(dir)) continue;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      const std::string ext = entry.path().extension().string();
      if (ext != ".cpp" && ext != ".h") continue;
      std::ifstream in(entry.path());
      std::stringstream s;
      s << in.rdbuf();
      sources.emplace_back(std::filesystem::relative(entry.path(), root).string(), s.str());
    }
  }
  return sources;
}

std::vector<LongFunction> long_functions(const std::string& root, int limit) {
  std::vector<LongFunction> found;
  for (const auto& [file, text] : project_sources(root)) scan(file, strip(text), limit, found);
  return found;
}

// A suppression that names no check silences every check on its line, and one without a reason cannot be
// reviewed: each NOLINT must read `NOLINT(check): reason` (or NOLINTNEXTLINE(check): reason).
std::vector<std::string> bare_suppressions(const std::string& file, const std::string& text) {
  const std::regex named(R"(NOLINT(NEXTLINE)?\([a-z0-9.,*-]+\): \S)");
  std::vector<std::string> found;
  std::istringstream lines(text);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n)
    if (line.find("// NOLINT") != std::string::npos && !std::regex_search(line, named))
      found.push_back(file + ":" + std::to_string(n) + ": " + line);
  return found;
}

}  // namespace

TEST_CASE("conventions: the function-length scanner finds long bodies and skips scopes") {
  std::vector<LongFunction> found;
  std::string src = "namespace a {\nstruct S {\n  int f() {\n    return 1;\n  }\n};\n";
  src += "int g(int x) {\n  auto l = [] { return \"}\"; };\n";
  for (int i = 0; i < 5; ++i) src += "  x += 1;  // }\n";
  src += "  return x;\n}\n}  // namespace a\n";
  scan("t.cpp", strip(src), 5, found);
  REQUIRE(found.size() == 1);
  CHECK(found[0].line == 7);
  CHECK(found[0].lines == 9);
}

TEST_CASE("conventions: no function of the project's own code is over 80 lines") {
  const std::vector<LongFunction> found = long_functions(".", 80);
  for (const LongFunction& f : found)
    UNSCOPED_INFO(f.file << ":" << f.line << ": " << f.lines << " lines: " << f.head.substr(0, 100));
  CHECK(found.empty());
}

TEST_CASE("conventions: the suppression scanner takes a named check with a reason, nothing less") {
  const std::string src =
      "int a;  // NOLINT\nint b;  // NOLINT: implicit\n"
      "int c;  // NOLINT(bugprone-foo): why\n// NOLINTNEXTLINE(performance-bar): why\n"
      "int d;  // NOLINT(bugprone-foo)\n";
  const std::vector<std::string> found = bare_suppressions("t.cpp", src);
  REQUIRE(found.size() == 3);
  CHECK(found[0].rfind("t.cpp:1:", 0) == 0);
  CHECK(found[1].rfind("t.cpp:2:", 0) == 0);
  CHECK(found[2].rfind("t.cpp:5:", 0) == 0);
}

TEST_CASE("conventions: every clang-tidy suppression names its check and a reason") {
  std::vector<std::string> found;
  for (const auto& [file, text] : project_sources(".")) {
    if (file == "tests/test_conventions.cpp") continue;  // its own test strings
    for (std::string& f : bare_suppressions(file, text)) found.push_back(std::move(f));
  }
  for (const std::string& f : found) UNSCOPED_INFO(f);
  CHECK(found.empty());
}
