// Project conventions enforced as tests (Verilator style): no function of the project's own code is longer
// than 80 lines, so every function can be read on one screen.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
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

std::vector<LongFunction> long_functions(const std::string& root, int limit) {
  std::vector<LongFunction> found;
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
      scan(std::filesystem::relative(entry.path(), root).string(), strip(s.str()), limit, found);
    }
  }
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
