// KeyValue: a key and a value, as Kafka's KeyValue.pair. What Map returns in the DSL (std::pair works too)
// and what TestOutputTopic::ReadKeyValue gives back.
#pragma once

#include <utility>

namespace eddy {

template <typename K, typename V>
struct KeyValue {
  K key;
  V value;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

template <typename K, typename V>
KeyValue<std::decay_t<K>, std::decay_t<V>> MakeKeyValue(K&& key, V&& value) {
  return {std::forward<K>(key), std::forward<V>(value)};
}

}  // namespace eddy
