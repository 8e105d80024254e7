// DefaultSerdeFor<T>: the serde used when a DSL call or a TestDriver topic is given types but no serdes
// (Kafka's default.key.serde / default.value.serde, chosen by type instead of by config). Defined for
// std::string (StringSerde), int64_t, int32_t, double and float; any other type needs explicit serdes, and
// naming it here fails to compile with a message saying so.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "eddy/core/serde.h"

namespace eddy {

template <typename T>
struct DefaultSerdeTraits {
  static_assert(!std::is_same_v<T, T>,
                "no default serde for this type: pass serdes explicitly (Consumed(KeySerde(), ValueSerde()), "
                "Produced(...), or CreateInputTopic(topic, KeySerde(), ValueSerde()))");
};
template <>
struct DefaultSerdeTraits<std::string> {
  using Type = StringSerde;
};
template <>
struct DefaultSerdeTraits<int64_t> {
  using Type = Int64Serde;
};
template <>
struct DefaultSerdeTraits<int32_t> {
  using Type = Int32Serde;
};
template <>
struct DefaultSerdeTraits<double> {
  using Type = DoubleSerde;
};
template <>
struct DefaultSerdeTraits<float> {
  using Type = FloatSerde;
};

template <typename T>
using DefaultSerdeFor = typename DefaultSerdeTraits<T>::Type;

}  // namespace eddy
