// Serdes: how keys and values become bytes and back, as Kafka's Serializer/Deserializer pairs.
//
// A serde is a plain value type (no virtual calls) with
//   using Type = ...;                                           // what it (de)serializes
//   void Serialize(const Type& v, std::string* out) const;      // replaces *out
//   absl::Status Deserialize(absl::string_view in, Type* out) const;
// checked by the Serde concept below, so the DSL and runtime take serdes as template parameters and the
// per-record calls inline. Serialize may instead return absl::Status when it can fail (ProtoSerde); generic
// code calls SerializeWith(), which handles both.
//
// The fixed-width serdes write big-endian bytes exactly as Kafka's LongSerializer, IntegerSerializer and
// DoubleSerializer, so Eddy and Java applications read each other's topics. Null keys and values are not a
// serde concern here: the producer and RecordView carry them as absent (std::optional / has_value()).
//
// JSON (json_serde.h) and protobuf (proto_serde.h) serdes live in their own headers so that a translation
// unit pays their compile time only when it uses them.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace eddy {

template <typename S>
concept Serde = requires(const S& s, const typename S::Type& v, std::string* out, absl::string_view in,
                         typename S::Type* t) {
  s.Serialize(v, out);  // replaces *out
  { s.Deserialize(in, t) } -> std::same_as<absl::Status>;
};

// SerializeWith calls s.Serialize(v, out) and returns its status, or OK for serdes that cannot fail.
template <Serde S>
[[nodiscard]] inline absl::Status SerializeWith(const S& s, const typename S::Type& v, std::string* out) {
  if constexpr (std::is_void_v<decltype(s.Serialize(v, out))>) {
    s.Serialize(v, out);
    return absl::OkStatus();
  } else {
    return s.Serialize(v, out);
  }
}

namespace serde_internal {
// kInvalidArgument: "<serde>: expected <want> bytes, got <got>".
absl::Status WrongSize(absl::string_view serde, size_t want, size_t got);
}  // namespace serde_internal

// Bytes as they are (Kafka's ByteArraySerializer).
struct BytesSerde {
  using Type = std::string;
  void Serialize(const std::string& v, std::string* out) const { out->assign(v); }
  absl::Status Deserialize(absl::string_view in, std::string* out) const {
    out->assign(in.data(), in.size());
    return absl::OkStatus();
  }
};

// UTF-8 text (Kafka's StringSerializer with its default encoding). Like Kafka's, it does not validate UTF-8.
struct StringSerde {
  using Type = std::string;
  void Serialize(const std::string& v, std::string* out) const { out->assign(v); }
  absl::Status Deserialize(absl::string_view in, std::string* out) const {
    out->assign(in.data(), in.size());
    return absl::OkStatus();
  }
};

// 8 bytes big-endian two's complement (Kafka's LongSerializer).
struct Int64Serde {
  using Type = int64_t;
  void Serialize(int64_t v, std::string* out) const {
    out->resize(8);
    absl::big_endian::Store64(out->data(), static_cast<uint64_t>(v));
  }
  absl::Status Deserialize(absl::string_view in, int64_t* out) const {
    if (in.size() != 8) return serde_internal::WrongSize("Int64Serde", 8, in.size());
    *out = static_cast<int64_t>(absl::big_endian::Load64(in.data()));
    return absl::OkStatus();
  }
};

// 4 bytes big-endian two's complement (Kafka's IntegerSerializer).
struct Int32Serde {
  using Type = int32_t;
  void Serialize(int32_t v, std::string* out) const {
    out->resize(4);
    absl::big_endian::Store32(out->data(), static_cast<uint32_t>(v));
  }
  absl::Status Deserialize(absl::string_view in, int32_t* out) const {
    if (in.size() != 4) return serde_internal::WrongSize("Int32Serde", 4, in.size());
    *out = static_cast<int32_t>(absl::big_endian::Load32(in.data()));
    return absl::OkStatus();
  }
};

// IEEE-754 binary64, big-endian (Kafka's DoubleSerializer: Double.doubleToLongBits, then as a long).
struct DoubleSerde {
  using Type = double;
  void Serialize(double v, std::string* out) const {
    out->resize(8);
    absl::big_endian::Store64(out->data(), std::bit_cast<uint64_t>(v));
  }
  absl::Status Deserialize(absl::string_view in, double* out) const {
    if (in.size() != 8) return serde_internal::WrongSize("DoubleSerde", 8, in.size());
    *out = std::bit_cast<double>(absl::big_endian::Load64(in.data()));
    return absl::OkStatus();
  }
};

// IEEE-754 binary32, big-endian (Kafka's FloatSerializer).
struct FloatSerde {
  using Type = float;
  void Serialize(float v, std::string* out) const {
    out->resize(4);
    absl::big_endian::Store32(out->data(), std::bit_cast<uint32_t>(v));
  }
  absl::Status Deserialize(absl::string_view in, float* out) const {
    if (in.size() != 4) return serde_internal::WrongSize("FloatSerde", 4, in.size());
    *out = std::bit_cast<float>(absl::big_endian::Load32(in.data()));
    return absl::OkStatus();
  }
};

static_assert(Serde<BytesSerde> && Serde<StringSerde> && Serde<Int64Serde> && Serde<Int32Serde> &&
              Serde<DoubleSerde> && Serde<FloatSerde>);

}  // namespace eddy
