// docs/kafka-protocol.md's two API tables ("Supported APIs", and the refused APIs under "Not supported")
// must be exactly the code's tables (SupportedApis, RefusedApis): names, keys and version ranges.
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "broker/kafka/kafka_messages.h"
#include "broker/kafka/supported_apis.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

using Table = std::map<int16_t, std::tuple<std::string, int16_t, int16_t>>;  // key -> name, min, max

std::string ReadDoc() {
  std::ifstream in(std::string(EDDY_SOURCE_DIR) + "/docs/kafka-protocol.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses the rows "| Name | key | min–max | ..." of the first table after the line starting with `heading`.
Table ParseTable(const std::string& doc, const std::string& heading) {
  Table table;
  size_t at = doc.find("\n" + heading);
  if (at == std::string::npos) return table;
  bool in_table = false;
  for (absl::string_view line : absl::StrSplit(absl::string_view(doc).substr(at + 1), '\n')) {
    if (!absl::StartsWith(line, "|")) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() < 5) continue;
    for (std::string& c : cells) c = std::string(absl::StripAsciiWhitespace(c));
    int key = 0, min = 0, max = 0;
    std::vector<std::string> range = absl::StrSplit(cells[3], "–");  // an en dash, as written in the doc
    if (!absl::SimpleAtoi(cells[2], &key) || range.size() != 2 || !absl::SimpleAtoi(range[0], &min) ||
        !absl::SimpleAtoi(range[1], &max)) {
      continue;  // the header and separator rows
    }
    table[static_cast<int16_t>(key)] = {cells[1], static_cast<int16_t>(min), static_cast<int16_t>(max)};
  }
  return table;
}

Table CodeTable(absl::Span<const ApiVersionRange> apis) {
  Table table;
  for (const ApiVersionRange& r : apis) table[r.api_key] = {ApiName(r.api_key), r.min_version, r.max_version};
  return table;
}

TEST(SupportedApisDocTest, TheDocsSupportedTableIsTheCodes) {
  const std::string doc = ReadDoc();
  ASSERT_FALSE(doc.empty()) << "cannot read docs/kafka-protocol.md";
  EXPECT_EQ(ParseTable(doc, "## Supported APIs"), CodeTable(SupportedApis()));
}

TEST(SupportedApisDocTest, TheDocsRefusedTableIsTheCodes) {
  const std::string doc = ReadDoc();
  ASSERT_FALSE(doc.empty()) << "cannot read docs/kafka-protocol.md";
  EXPECT_EQ(ParseTable(doc, "## Not supported"), CodeTable(RefusedApis()));
}

}  // namespace
}  // namespace eddy::kafka
