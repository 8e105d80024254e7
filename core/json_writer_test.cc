// json::Writer's string escaping against a byte-at-a-time reference: every byte value, every pair of byte
// values across the scan's block boundaries, seeded random strings at every alignment, and round trips
// through simdjson. (Numbers, nesting and commas: serde_test.cc.)
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "eddy/core/json_serde.h"
#include "eddy/core/status.h"
#include "gtest/gtest.h"

namespace eddy::json {
namespace {

// RFC 8259 escaping, one byte at a time, as the writer must produce it.
std::string Reference(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string Written(std::string_view s) {
  std::string out;
  Writer w(&out);
  w.String(s);
  return out;
}

// The string as simdjson reads it back from the writer's output.
std::string RoundTrip(std::string_view s) {
  simdjson::ondemand::parser parser;
  std::string scratch, parsed;
  const absl::Status st = ParseValue(parser, &scratch, Written(s), [&](simdjson::ondemand::value v) {
    std::string_view text;
    EDDY_RETURN_IF_ERROR(Get(v.get_string(), &text));
    parsed = std::string(text);
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  return parsed;
}

TEST(JsonEscapeTest, EmptyStringIsTwoQuotes) {
  EXPECT_EQ(Written(""), "\"\"");
  EXPECT_EQ(Written(std::string_view()), "\"\"");
}

TEST(JsonEscapeTest, EveryByteValueAloneAndInsideStringsOfEveryScanPath) {
  // Lengths 1 to 3 (byte by byte), 4 to 7 (two 4-byte halves), 8 to 15 (words), 16 and more (16-byte blocks,
  // then an overlapping last block); the byte goes at every position.
  for (int c = 0; c < 256; ++c) {
    for (size_t len = 1; len <= 40; ++len) {
      for (size_t pos = 0; pos < len; ++pos) {
        std::string s(len, 'a');
        s[pos] = static_cast<char>(c);
        ASSERT_EQ(Written(s), Reference(s)) << "byte " << c << " at " << pos << " of " << len;
      }
    }
  }
}

TEST(JsonEscapeTest, EveryPairOfBytesAcrossBlockBoundaries) {
  // A byte below 0x20 (or '"', '\\') borrows from the byte above it in the word-at-a-time test, so a clean
  // byte after an escaped one must still be copied as it is, and an escaped one after it still found.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (const auto& [len, pos] : {std::pair<size_t, size_t>{2, 0}, {6, 3}, {12, 7}, {24, 7}, {24, 15}, {40, 31}}) {
        std::string s(len, 'z');
        s[pos] = static_cast<char>(a);
        s[pos + 1] = static_cast<char>(b);
        ASSERT_EQ(Written(s), Reference(s)) << "bytes " << a << ", " << b << " at " << pos << " of " << len;
      }
    }
  }
}

TEST(JsonEscapeTest, RandomStringsAtEveryAlignmentMatchTheReference) {
  std::mt19937_64 rng(20261122);
  std::string buffer;
  for (int round = 0; round < 20000; ++round) {
    const size_t len = rng() % 200;
    // From no escapes to mostly escapes.
    const uint64_t escape_per_256 = (round % 5) * 16;
    const size_t offset = rng() % 16;
    buffer.assign(offset, 'x');
    for (size_t i = 0; i < len; ++i) {
      uint8_t c;
      if (rng() % 256 < escape_per_256) {
        c = "\"\\\n\t\x01\x1f\x00"[rng() % 7];
      } else {
        c = static_cast<uint8_t>(0x20 + rng() % 224);  // printable ASCII, DEL and bytes >= 0x80
      }
      buffer.push_back(static_cast<char>(c));
    }
    const std::string_view s(buffer.data() + offset, len);
    ASSERT_EQ(Written(s), Reference(s)) << "round " << round;
  }
}

TEST(JsonEscapeTest, LongStringsMatchTheReference) {
  std::string clean(100000, 'q');
  EXPECT_EQ(Written(clean), Reference(clean));
  std::string sparse = clean;
  for (size_t i = 0; i < sparse.size(); i += 997) sparse[i] = '\n';
  sparse.back() = '"';
  EXPECT_EQ(Written(sparse), Reference(sparse));
  const std::string dense(5000, '\x02');  // every byte becomes six: the worst case
  EXPECT_EQ(Written(dense), Reference(dense));
  EXPECT_EQ(Written(dense).size(), 2 + 6 * dense.size());
}

TEST(JsonEscapeTest, Utf8PassesThroughAndReadsBack) {
  const std::string text = "order \"№ 42\"\tstatus: 配送中 ✓ \u00e9\u2028\U0001F600 \\ done\n";
  EXPECT_EQ(Written(text), Reference(text));
  EXPECT_EQ(RoundTrip(text), text);
  std::mt19937 rng(7);
  const std::string_view pieces[] = {"a", "\"", "\\", "\n", "\x01", "é", "日本", "😀", " ", "\x7f", "\u2028"};
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) s += pieces[rng() % std::size(pieces)];
    ASSERT_EQ(RoundTrip(s), s) << "round " << round;
  }
}

TEST(JsonEscapeTest, KeysAndValuesAppendAfterExistingText) {
  std::string out = "prefix ";
  Writer w(&out);
  w.BeginObject();
  w.Key("a\"b");
  w.String("x\ny");
  w.Key("clean");
  w.String("");
  w.Key("\x01");
  w.BeginArray();
  w.String("\\");
  w.String("plain text longer than sixteen bytes");
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(out, R"(prefix {"a\"b":"x\ny","clean":"","\u0001":["\\","plain text longer than sixteen bytes"]})");
}

}  // namespace
}  // namespace eddy::json
