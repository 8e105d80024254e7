// Fused operator chains: the compile-time representation of a run of stateless DSL operators, and the
// machinery that runs any suffix of one inside a single physical node.
//
// A chain is a nested type Link<Link<Root, Op1>, Op2>... Run(env, cont, input) executes the root (a
// source's deserialization, or nothing for a typed root) and then each operator in continuation-passing
// style: every operator calls the next one's continuation zero (filter), one (map) or many (flatMap)
// times, all through templates, so the compiler inlines the whole chain: no virtual call and no heap
// allocation per operator per record. Values flow as const references; an operator that produces a new
// key or value keeps it in a local for the duration of the downstream call.
//
// Implementation detail of the DSL (namespace dsl_internal); see dsl/README.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/record.h"
#include "eddy/core/serde.h"
#include "eddy/runtime/key_value.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/task_context.h"

namespace eddy::dsl_internal {

// Forces inlining along a fused chain: GCC's inliner otherwise gives up inside deep chains of lambdas
// (measured by bench/dsl_fusion_bench.cc).
#if defined(__GNUC__)
#define EDDY_FUSED_INLINE __attribute__((always_inline))
#else
#define EDDY_FUSED_INLINE
#endif

// What operators may need from their node: the task context and the node's name.
struct ChainEnv {
  TaskContext* context = nullptr;
  const std::string* node = nullptr;
};

// Key/value access for what Map/FlatMap return: KeyValue<K, V> or std::pair<K, V>.
template <typename T>
concept HasKeyValueMembers = requires(const T& t) {
  t.key;
  t.value;
};
template <typename T>
concept HasPairMembers = requires(const T& t) {
  t.first;
  t.second;
};
template <HasKeyValueMembers T>
const auto& KvKey(const T& kv) { return kv.key; }
template <HasKeyValueMembers T>
const auto& KvValue(const T& kv) { return kv.value; }
template <HasPairMembers T>
  requires(!HasKeyValueMembers<T>)
const auto& KvKey(const T& kv) { return kv.first; }
template <HasPairMembers T>
  requires(!HasKeyValueMembers<T>)
const auto& KvValue(const T& kv) { return kv.second; }
template <typename T>
using KvKeyT = std::decay_t<decltype(KvKey(std::declval<T&>()))>;
template <typename T>
using KvValueT = std::decay_t<decltype(KvValue(std::declval<T&>()))>;

// ---- Roots ---------------------------------------------------------------------------------------------

// A chain fed typed records by an upstream physical node.
template <typename K, typename V>
struct TypedRoot {
  using KIn = K;
  using VIn = V;
  using KOut = K;
  using VOut = V;
  static constexpr bool kRaw = false;
  static constexpr int kDepth = 0;

  template <typename Cont>
  EDDY_FUSED_INLINE void Run(const ChainEnv&, Cont& cont, const K& key, const V& value) {
    cont(key, value);
  }
};

// A chain fed raw records by a source: deserializes key and value (a null key or value becomes a
// default-constructed one), extracts the timestamp, then continues. Keeps the last key and value to
// reuse their memory.
template <typename KS, typename VS, typename Extractor>
struct SourceRoot {
  using KOut = typename KS::Type;
  using VOut = typename VS::Type;
  static constexpr bool kRaw = true;
  static constexpr int kDepth = 0;

  KS key_serde;
  VS value_serde;
  Extractor extractor;
  KOut key{};
  VOut value{};
  std::string node;  // the source node's name, for errors (the physical node may be named after a sink)

  template <typename Cont>
  EDDY_FUSED_INLINE void Run(const ChainEnv& env, Cont& cont, const RecordView& record) {
    if (record.has_key()) [[likely]] {
      absl::Status st = key_serde.Deserialize(record.key(), &key);
      if (!st.ok()) [[unlikely]] {
        Failed(env, st, "key");
        return;
      }
    } else {
      key = KOut{};
    }
    if (record.has_value()) [[likely]] {
      absl::Status st = value_serde.Deserialize(record.value(), &value);
      if (!st.ok()) [[unlikely]] {
        Failed(env, st, "value");
        return;
      }
    } else {
      value = VOut{};
    }
    int64_t partition_time = env.context->partition_time();
    int64_t ts;
    if constexpr (std::is_invocable_r_v<int64_t, Extractor&, const KOut&, const VOut&, const RecordView&, int64_t>) {
      ts = extractor(key, value, record, partition_time);
    } else {
      static_assert(std::is_invocable_r_v<int64_t, Extractor&, const RecordView&, int64_t>,
                    "WithTimestampExtractor: the extractor must be callable as int64_t(const RecordView&, int64_t) "
                    "or int64_t(const K&, const V&, const RecordView&, int64_t)");
      ts = extractor(record, partition_time);
    }
    if (!env.context->AcceptTimestamp(node, ts)) [[unlikely]] return;
    cont(static_cast<const KOut&>(key), static_cast<const VOut&>(value));
  }

  // Out of line: keeps the error path out of the fused loop.
  [[gnu::noinline, gnu::cold]] void Failed(const ChainEnv& env, const absl::Status& st, const char* what) {
    env.context->HandleDeserializationError(
        node, absl::Status(st.code(), absl::StrCat("cannot deserialize the ", what, ": ", st.message())));
  }
};

// ---- Links and operators -------------------------------------------------------------------------------

// Prev followed by Op. Op is a struct with KOut/VOut and
//   template <class Cont> void Apply(const KIn&, const VIn&, Cont& cont);
template <typename Prev, typename Op>
struct Link {
  using KOut = typename Op::KOut;
  using VOut = typename Op::VOut;
  using PrevT = Prev;
  using OpT = Op;
  static constexpr bool kRaw = Prev::kRaw;
  static constexpr int kDepth = Prev::kDepth + 1;

  Prev prev;
  Op op;

  template <typename Cont, typename... In>
  EDDY_FUSED_INLINE void Run(const ChainEnv& env, Cont& cont, const In&... in) {
    auto next = [this, &cont](const auto& k, const auto& v) EDDY_FUSED_INLINE { op.Apply(k, v, cont); };
    prev.Run(env, next, in...);
  }
};

template <typename K, typename V, typename P>
struct FilterOp {
  using KOut = K;
  using VOut = V;
  P pred;
  bool keep_if = true;  // false: FilterNot
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const V& v, Cont& cont) {
    if (static_cast<bool>(pred(k, v)) == keep_if) cont(k, v);
  }
};

// Calls a value mapper given as V2(const V&) or as V2(const K&, const V&) (Kafka's ValueMapperWithKey).
template <typename F, typename K, typename V>
decltype(auto) CallValueFn(F& f, const K& k, const V& v) {
  if constexpr (std::is_invocable_v<F&, const V&>) return f(v); else return f(k, v);
}
template <typename F, typename K, typename V>
using ValueFnResult = std::decay_t<decltype(CallValueFn(std::declval<F&>(), std::declval<const K&>(),
                                                        std::declval<const V&>()))>;

template <typename K, typename V, typename F>
struct MapValuesOp {
  using KOut = K;
  using VOut = ValueFnResult<F, K, V>;
  F fn;
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const V& v, Cont& cont) {
    const VOut& out = CallValueFn(fn, k, v);
    cont(k, out);
  }
};

template <typename K, typename V, typename F>
struct MapOp {
  using Result = std::decay_t<std::invoke_result_t<F&, const K&, const V&>>;
  using KOut = KvKeyT<Result>;
  using VOut = KvValueT<Result>;
  F fn;
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const V& v, Cont& cont) {
    const Result& kv = fn(k, v);
    cont(static_cast<const KOut&>(KvKey(kv)), static_cast<const VOut&>(KvValue(kv)));
  }
};

template <typename K, typename V, typename F>
struct SelectKeyOp {
  using KOut = std::decay_t<std::invoke_result_t<F&, const K&, const V&>>;
  using VOut = V;
  F fn;
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const V& v, Cont& cont) {
    const KOut& key = fn(k, v);
    cont(key, v);
  }
};

template <typename K, typename V, typename F>
struct FlatMapOp {
  using Range = std::decay_t<std::invoke_result_t<F&, const K&, const V&>>;
  using Element = std::decay_t<decltype(*std::begin(std::declval<Range&>()))>;
  using KOut = KvKeyT<Element>;
  using VOut = KvValueT<Element>;
  F fn;
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const V& v, Cont& cont) {
    const Range& range = fn(k, v);
    for (const auto& kv : range) cont(static_cast<const KOut&>(KvKey(kv)), static_cast<const VOut&>(KvValue(kv)));
  }
};

template <typename K, typename V, typename F>
struct FlatMapValuesOp {
  using Range = ValueFnResult<F, K, V>;
  using KOut = K;
  using VOut = std::decay_t<decltype(*std::begin(std::declval<Range&>()))>;
  F fn;
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const V& v, Cont& cont) {
    const Range& range = CallValueFn(fn, k, v);
    for (const auto& out : range) cont(k, static_cast<const VOut&>(out));
  }
};

template <typename K, typename V, typename F>
struct PeekOp {
  using KOut = K;
  using VOut = V;
  F fn;
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const V& v, Cont& cont) {
    fn(k, v);
    cont(k, v);
  }
};

// RootOf<Chain>: the root at the bottom of a chain (its input types).
template <typename C>
struct RootOfT {
  using type = C;
};
template <typename P, typename Op>
struct RootOfT<Link<P, Op>> {
  using type = typename RootOfT<P>::type;
};
template <typename C>
using RootOf = typename RootOfT<C>::type;

// ---- Suffixes --------------------------------------------------------------------------------------------

// MakeSuffix<S>(chain) copies the part of `chain` after its first S operators: the chain itself for S == 0,
// else a TypedRoot fed with what operator S outputs, followed by the remaining operators.
template <int S, typename C>
auto MakeSuffix(const C& chain) {
  if constexpr (C::kDepth == S) {
    if constexpr (S == 0) {
      return chain;
    } else {
      return TypedRoot<typename C::KOut, typename C::VOut>{};
    }
  } else {
    using Prev = decltype(MakeSuffix<S>(chain.prev));
    return Link<Prev, typename C::OpT>{MakeSuffix<S>(chain.prev), chain.op};
  }
}

// MakeTypedChain(chain) copies `chain` with its root replaced by a TypedRoot of the root's output types:
// the operators of a chain whose raw root (a source) runs in a physical node of its own.
template <typename C>
auto MakeTypedChain(const C& chain) {
  if constexpr (C::kDepth == 0) {
    return TypedRoot<typename C::KOut, typename C::VOut>{};
  } else {
    using Prev = decltype(MakeTypedChain(chain.prev));
    return Link<Prev, typename C::OpT>{MakeTypedChain(chain.prev), chain.op};
  }
}

// WithSuffix calls make(MakeSuffix<start>(chain)) for a run-time start in [0, C::kDepth] and returns its
// result (null for a start out of range). `typed_input` with start 0: make(MakeTypedChain(chain)) (see
// NodeFactory, graph.h).
template <typename C, typename Make, int... I>
std::unique_ptr<ProcessorNode> WithSuffixImpl(const C& chain, int start, Make& make,
                                              std::integer_sequence<int, I...>) {
  std::unique_ptr<ProcessorNode> out;
  ((start == I ? (out = make(MakeSuffix<I>(chain)), 0) : 0), ...);
  return out;
}
template <typename C, typename Make>
std::unique_ptr<ProcessorNode> WithSuffix(const C& chain, int start, bool typed_input, Make&& make) {
  if constexpr (C::kRaw) {
    if (typed_input && start == 0) return make(MakeTypedChain(chain));
  }
  return WithSuffixImpl(chain, start, make, std::make_integer_sequence<int, C::kDepth + 1>());
}

}  // namespace eddy::dsl_internal
