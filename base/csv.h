#pragma once
// Reading and writing CSV cells, the one way: the project's own tables (sweep results, accuracy tables) and
// the inputs it reads (layer lists, query traces, invocation counts). RFC 4180 quoting: a cell holding a
// comma, a quote or a newline is quoted, inner quotes doubled.
#include <optional>
#include <string>
#include <vector>

namespace sushi {

// `text` as one cell: quoted only when it has to be.
std::string csv_cell(const std::string& text);
// The cells of one line (a trailing '\r' dropped; "a," has two cells). InputError naming `where` for an
// unterminated quoted cell.
std::vector<std::string> split_csv_line(const std::string& line, const std::string& where);
// The whole of `text` as a finite number ("12", "0.5", "1e-3"); nullopt otherwise, for the caller to name
// the file, line and column.
std::optional<double> parse_number(const std::string& text);

}  // namespace sushi
