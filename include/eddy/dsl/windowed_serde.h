// Serdes of Windowed<K> keys, byte for byte as Kafka Streams' TimeWindowedSerde and SessionWindowedSerde,
// so windowed results written with To() read the same in Java:
//   time window:    inner key bytes | window start (8 bytes, big-endian)
//   session window: inner key bytes | session end (8 bytes, big-endian) | session start (8 bytes, big-endian)
// (Kafka's SessionKeySchema writes the end before the start.) A time-windowed key does not carry its end:
// the deserializer computes start + window size, so it needs the window size (Kafka's
// TimeWindowedDeserializer(inner, windowSize)).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/serde.h"
#include "eddy/state/windowed.h"

namespace eddy {

template <Serde KS>
struct TimeWindowedSerde {
  using Type = Windowed<typename KS::Type>;
  TimeWindowedSerde(KS inner, int64_t window_size_ms) : inner(std::move(inner)), window_size_ms(window_size_ms) {}

  absl::Status Serialize(const Type& v, std::string* out) const {
    absl::Status st = SerializeWith(inner, v.key, out);
    if (!st.ok()) return st;
    char buf[8];
    absl::big_endian::Store64(buf, static_cast<uint64_t>(v.window.start));
    out->append(buf, 8);
    return absl::OkStatus();
  }
  absl::Status Deserialize(absl::string_view in, Type* out) const {
    if (in.size() < 8) return absl::InvalidArgumentError("TimeWindowedSerde: a windowed key has at least 8 bytes");
    out->window.start = static_cast<int64_t>(absl::big_endian::Load64(in.data() + in.size() - 8));
    out->window.end = out->window.start + window_size_ms;
    in.remove_suffix(8);
    return inner.Deserialize(in, &out->key);
  }

  KS inner;
  int64_t window_size_ms;
};

template <Serde KS>
struct SessionWindowedSerde {
  using Type = Windowed<typename KS::Type>;
  explicit SessionWindowedSerde(KS inner) : inner(std::move(inner)) {}

  absl::Status Serialize(const Type& v, std::string* out) const {
    absl::Status st = SerializeWith(inner, v.key, out);
    if (!st.ok()) return st;
    char buf[16];
    absl::big_endian::Store64(buf, static_cast<uint64_t>(v.window.end));
    absl::big_endian::Store64(buf + 8, static_cast<uint64_t>(v.window.start));
    out->append(buf, 16);
    return absl::OkStatus();
  }
  absl::Status Deserialize(absl::string_view in, Type* out) const {
    if (in.size() < 16) {
      return absl::InvalidArgumentError("SessionWindowedSerde: a session-windowed key has at least 16 bytes");
    }
    const char* p = in.data() + in.size() - 16;
    out->window.end = static_cast<int64_t>(absl::big_endian::Load64(p));
    out->window.start = static_cast<int64_t>(absl::big_endian::Load64(p + 8));
    in.remove_suffix(16);
    return inner.Deserialize(in, &out->key);
  }

  KS inner;
};

}  // namespace eddy
