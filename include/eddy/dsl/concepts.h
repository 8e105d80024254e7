// The callable shapes each DSL operation accepts, as concepts. KStream operations check them and, when a
// lambda does not fit the stream's K and V, fail to compile with a static_assert that names the operation
// and the expected signature, e.g.
//   "Filter: the predicate must be callable as bool(const K&, const V&)".
// Tests (and users) can check them directly: static_assert(!eddy::FilterPredicate<F, std::string, int>).
#pragma once

#include <iterator>
#include <memory>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "eddy/dsl/chain.h"
#include "eddy/runtime/processor.h"

namespace eddy {

template <typename P, typename K, typename V>
concept FilterPredicate = std::is_invocable_r_v<bool, P&, const K&, const V&>;

// V2(const V&) or V2(const K&, const V&) with V2 not void.
template <typename F, typename K, typename V>
concept ValueMapper = (std::is_invocable_v<F&, const V&> || std::is_invocable_v<F&, const K&, const V&>) &&
                      !std::is_void_v<dsl_internal::ValueFnResult<F, K, V>>;

template <typename T>
concept KeyValueLike = dsl_internal::HasKeyValueMembers<T> || dsl_internal::HasPairMembers<T>;

// KeyValue<K2, V2> or std::pair<K2, V2> (const K&, const V&).
template <typename F, typename K, typename V>
concept KeyValueMapper = std::is_invocable_v<F&, const K&, const V&> &&
                         KeyValueLike<std::decay_t<std::invoke_result_t<F&, const K&, const V&>>>;

// K2(const K&, const V&) with K2 not void.
template <typename F, typename K, typename V>
concept KeySelector = std::is_invocable_v<F&, const K&, const V&> &&
                      !std::is_void_v<std::invoke_result_t<F&, const K&, const V&>>;

template <typename R>
concept IterableRange = requires(R& r) {
  std::begin(r);
  std::end(r);
};

// A range (std::vector, std::array, ...) of KeyValue/std::pair (const K&, const V&).
template <typename F, typename K, typename V>
concept FlatKeyValueMapper =
    std::is_invocable_v<F&, const K&, const V&> &&
    IterableRange<std::decay_t<std::invoke_result_t<F&, const K&, const V&>>> &&
    KeyValueLike<std::decay_t<decltype(*std::begin(std::declval<std::decay_t<std::invoke_result_t<F&, const K&, const V&>>&>()))>>;

// A range of V2 from (const V&) or (const K&, const V&).
template <typename F, typename K, typename V>
concept FlatValueMapper = ValueMapper<F, K, V> && IterableRange<dsl_internal::ValueFnResult<F, K, V>>;

template <typename F, typename K, typename V>
concept ForeachAction = std::is_invocable_v<F&, const K&, const V&>;

// The topic for each record: anything convertible to absl::string_view from (const K&, const V&).
template <typename F, typename K, typename V>
concept TopicNameExtractor = std::is_invocable_v<F&, const K&, const V&> &&
                             std::is_convertible_v<std::invoke_result_t<F&, const K&, const V&>, absl::string_view>;

// A callable returning std::unique_ptr<P>, P a Processor<K, V, KOut, VOut> for the stream's K and V.
template <typename S, typename K, typename V>
concept ProcessorSupplier = std::is_copy_constructible_v<S> && std::is_invocable_v<S&> && requires(S& s) {
  typename std::invoke_result_t<S&>::element_type::KeyOut;
  typename std::invoke_result_t<S&>::element_type::ValueOut;
  requires std::is_base_of_v<
      Processor<K, V, typename std::invoke_result_t<S&>::element_type::KeyOut,
                typename std::invoke_result_t<S&>::element_type::ValueOut>,
      typename std::invoke_result_t<S&>::element_type>;
};

namespace dsl_internal {
template <typename T>
inline constexpr bool kAlwaysFalse = false;
// What a KStream operation returns when its argument does not fit: the call compiles only as far as the
// static_assert naming the problem. Lets `requires { s.Filter(f) } -> KStreamType` test validity.
struct InvalidOperation {};
}  // namespace dsl_internal

}  // namespace eddy
