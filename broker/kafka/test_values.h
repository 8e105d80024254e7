// TestValues: the deterministic value source behind the generated test fillers
// (kafka_messages_testdata.h) and the fuzz test's mutations. Test-only.
//
// Values are drawn from a seeded SplitMix64 stream, so a seed always gives the same messages. Integers
// avoid 0 and -1 (the usual defaults) most of the time, so a dropped field shows up as a difference.
// Records and strings are owned by the TestValues: RecordsRef views stay valid while it lives.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <type_traits>

#include "broker/kafka/wire_types.h"

namespace eddy::kafka::testing {

class TestValues {
 public:
  explicit TestValues(uint64_t seed) : state_(seed) {}

  uint64_t Next64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(Next64() % n); }
  bool OneIn(uint32_t n) { return Below(n) == 0; }

  // A value of an integral type, bool, double or Uuid. Integers: small (1..100) half of the time, else
  // any bit pattern.
  template <typename T>
  T Next() {
    if constexpr (std::is_same_v<T, bool>) {
      return Below(2) == 0;
    } else if constexpr (std::is_same_v<T, double>) {
      return static_cast<double>(Next64() >> 11) / 3.0;  // finite, exactly representable
    } else if constexpr (std::is_same_v<T, Uuid>) {
      Uuid u;
      for (auto& b : u.bytes) b = static_cast<uint8_t>(Next64());
      return u;
    } else {
      if (Below(2) == 0) return static_cast<T>(1 + Below(100));
      return static_cast<T>(Next64());
    }
  }

  // 0..8 printable characters.
  std::string String() {
    std::string s(Below(9), ' ');
    for (char& c : s) c = static_cast<char>('a' + Below(26));
    return s;
  }
  // Null one time in four when `nullable`.
  std::optional<std::string> NullableString(bool nullable) {
    if (nullable && OneIn(4)) return std::nullopt;
    return String();
  }
  // Element count of an array: 0..3.
  int Count() { return static_cast<int>(Below(4)); }
  // 0..40 random bytes (opaque to the codecs), or null one time in four when `nullable`.
  RecordsRef Records(bool nullable) {
    if (nullable && OneIn(4)) return RecordsRef::Null();
    std::string& s = storage_.emplace_back(Below(41), '\0');
    for (char& c : s) c = static_cast<char>(Next64());
    return RecordsRef::Inline(s);
  }

 private:
  uint64_t state_;
  std::deque<std::string> storage_;
};

}  // namespace eddy::kafka::testing
