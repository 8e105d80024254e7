// Window and Windowed<K>: a time interval and a key paired with one, as Kafka Streams' Window and Windowed.
// Window stores (window_store.h) and session stores (session_store.h) hand them out; the DSL's windowed
// aggregations key their results with them.
#pragma once

#include <cstdint>
#include <utility>

namespace eddy {

// A time interval in ms since the epoch. For a time window (tumbling, hopping, sliding) start is inclusive
// and end exclusive, end = start + size; for a session window both are inclusive (the first and last record
// times of the session), as in Kafka. Plain value.
struct Window {
  int64_t start = 0;
  int64_t end = 0;

  friend bool operator==(const Window&, const Window&) = default;
  friend auto operator<=>(const Window&, const Window&) = default;
};

// A key and the window it belongs to. K is often absl::string_view (a view: the caller keeps the bytes).
template <typename K>
struct Windowed {
  K key;
  Window window;

  friend bool operator==(const Windowed&, const Windowed&) = default;
};

}  // namespace eddy
