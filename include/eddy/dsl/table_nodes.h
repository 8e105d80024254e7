// The physical node terminals of stateful DSL operations (see nodes.h for the terminal interface):
//   - StoreEmitter: forwards what a key-value store's flush listener reports (the table's changes) to the
//     node's children as (K, std::optional<V>): "every update, coalesced by the cache";
//   - AggregateTerminal: Count / Reduce / Aggregate into a key-value store;
//   - TableSourceTerminal: builder.Table's source, writing each record (or tombstone) into the store;
//   - TableGetter: reads a KTable's current value for a key (store lookup, then the table's Filter and
//     MapValues), for stream-table joins; JoinTerminal: the join itself.
// A KTable's changes flow between nodes as (K, std::optional<V>); nullopt is a tombstone (key deleted).
//
// Implementation detail of the DSL (namespace dsl_internal).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/serde.h"
#include "eddy/dsl/held_aggregates.h"
#include "eddy/runtime/processor.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/task_context.h"
#include "eddy/state/key_value_store.h"

namespace eddy::dsl_internal {

// Finds a key-value store of the task by name, with an error naming the node.
inline absl::StatusOr<KeyValueStore*> FindKeyValueStore(TaskContext* ctx, const std::string& node,
                                                        const std::string& store) {
  auto* kv = dynamic_cast<KeyValueStore*>(ctx->GetStateStore(store));
  if (kv == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", node, ": key-value store \"", store, "\" is not in task ", ctx->task_id().ToString()));
  }
  return kv;
}

// Installs a flush listener on `store` that deserializes each change and forwards it downstream with the
// change's timestamp.
template <typename KS, typename VS>
class StoreEmitter {
 public:
  using K = typename KS::Type;
  using V = typename VS::Type;

  StoreEmitter(KS ks, VS vs) : key_serde_(std::move(ks)), value_serde_(std::move(vs)) {}

  void Install(KeyValueStore* store, TaskContext* ctx) {
    ctx_ = ctx;
    store->SetFlushListener([this](absl::Span<const KeyValueChange> changes) { return Emit(changes); },
                            /*send_old_values=*/false);
  }
  absl::Status Connect(const std::string& node, int port, ProcessorNode* child) {
    if (port != 0) return absl::InvalidArgumentError(absl::StrCat("node ", node, " has no output port ", port));
    return out_.Add(node, child);
  }

 private:
  absl::Status Emit(absl::Span<const KeyValueChange> changes) {
    if (out_.size() == 0) return absl::OkStatus();
    const int64_t ts = ctx_->timestamp();
    const absl::Span<const HeaderRef> headers = ctx_->headers();
    absl::Status st;
    for (const KeyValueChange& c : changes) {
      st = key_serde_.Deserialize(c.key, &key_);
      if (!st.ok()) break;
      std::optional<V> value;
      if (c.new_value) {
        st = value_serde_.Deserialize(*c.new_value, &value_);
        if (!st.ok()) break;
        value = value_;
      }
      ctx_->set_timestamp(c.timestamp);
      ctx_->set_headers({});
      out_.Forward(key_, value);
      if (ctx_->failed()) break;
    }
    ctx_->set_timestamp(ts);
    ctx_->set_headers(headers);
    return st;
  }

  KS key_serde_;
  VS value_serde_;
  TaskContext* ctx_ = nullptr;
  Downstream<K, std::optional<V>> out_;
  K key_{};
  V value_{};
};

// Count/Reduce/Aggregate: fn(key, value, const VA* old) -> VA (old null for a new key) is the new
// aggregate, written to the store; the store's flush listener emits it. With a cached store the aggregates
// a batch of records updates are held as typed values and each is written once per batch
// (HeldAggregates, HeldWrites), so a record whose key is held costs a hash lookup and fn.
template <typename K, typename V, typename KS, typename VAS, typename Fn>
class AggregateTerminal : public HeldWrites {
 public:
  using VA = typename VAS::Type;
  AggregateTerminal(std::string store, KS ks, VAS vas, Fn fn)
      : store_name_(std::move(store)), key_serde_(ks), value_serde_(vas), fn_(std::move(fn)),
        emitter_(std::move(ks), std::move(vas)) {}

  void operator()(const K& k, const V& v) {
    absl::Status st = Apply(k, v);
    if (!st.ok()) [[unlikely]] ctx_->Fail(absl::Status(st.code(), absl::StrCat("node ", *node_, ": ", st.message())));
  }
  absl::Status Init(TaskContext* ctx, const std::string& name) {
    ctx_ = ctx;
    node_ = &name;
    auto store = FindKeyValueStore(ctx, name, store_name_);
    if (!store.ok()) return store.status();
    store_ = *store;
    emitter_.Install(store_, ctx);
    held_.Start(store_, ctx, this);
    return absl::OkStatus();
  }
  absl::Status Connect(const std::string& name, int port, ProcessorNode* child) {
    return emitter_.Connect(name, port, child);
  }
  void Close() { held_.Stop(); }

  absl::Status WriteBack() override {
    pending_ = false;
    return held_.WriteBackWith(value_serde_, &value_buf_, [this](const auto& h, absl::string_view bytes) {
      return store_->Put(h.key, bytes);
    });
  }

 private:
  absl::Status Apply(const K& k, const V& v) {
    EDDY_RETURN_IF_ERROR(SerializeWith(key_serde_, k, &key_buf_));
    auto fn = [&](const VA* old) { return fn_(k, v, old); };
    if (held_.HoldNext()) {
      EDDY_RETURN_IF_ERROR(held_.Update(key_buf_, 0, ctx_->timestamp(), [this] { return ReadStored(); }, fn).status());
      pending_ = true;
      return absl::OkStatus();
    }
    EDDY_ASSIGN_OR_RETURN(const VA* old, ReadStored());
    agg_ = fn(old);
    EDDY_RETURN_IF_ERROR(SerializeWith(value_serde_, agg_, &value_buf_));
    return store_->Put(key_buf_, value_buf_);
  }

  // The store's aggregate of key_buf_, in agg_ (null: none), read without writing back the other held keys.
  absl::StatusOr<const VA*> ReadStored() {
    const bool pending = std::exchange(pending_, false);
    absl::StatusOr<bool> found = store_->Get(key_buf_, &value_buf_);
    pending_ = pending;
    if (!found.ok()) return found.status();
    if (!*found) return nullptr;
    EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(value_buf_, &agg_));
    return &agg_;
  }

  std::string store_name_;
  KS key_serde_;
  VAS value_serde_;
  Fn fn_;
  StoreEmitter<KS, VAS> emitter_;
  TaskContext* ctx_ = nullptr;
  const std::string* node_ = nullptr;
  KeyValueStore* store_ = nullptr;
  std::string key_buf_, value_buf_;
  VA agg_{};
  HeldAggregates<VA> held_;
};

// builder.Table's source: puts each record's raw key and value into the store (the serdes are those of the
// topic, so the bytes are the store's), or deletes the key on a null value (tombstone). Records with a null
// key are dropped, as Kafka does.
template <typename K, typename V, typename KS, typename VS>
class TableSourceTerminal {
 public:
  TableSourceTerminal(std::string store, KS ks, VS vs) : store_name_(std::move(store)), emitter_(ks, vs) {}

  void operator()(const K&, const V&) {
    const RecordView* raw = ctx_->raw_record();
    if (raw == nullptr || !raw->has_key()) return;
    absl::Status st = raw->has_value() ? store_->Put(raw->key(), raw->value()) : store_->Delete(raw->key());
    if (!st.ok()) [[unlikely]] ctx_->Fail(absl::Status(st.code(), absl::StrCat("node ", *node_, ": ", st.message())));
  }
  absl::Status Init(TaskContext* ctx, const std::string& name) {
    ctx_ = ctx;
    node_ = &name;
    auto store = FindKeyValueStore(ctx, name, store_name_);
    if (!store.ok()) return store.status();
    store_ = *store;
    emitter_.Install(store_, ctx);
    return absl::OkStatus();
  }
  absl::Status Connect(const std::string& name, int port, ProcessorNode* child) {
    return emitter_.Connect(name, port, child);
  }
  void Close() {}

 private:
  std::string store_name_;
  StoreEmitter<KS, VS> emitter_;
  TaskContext* ctx_ = nullptr;
  const std::string* node_ = nullptr;
  KeyValueStore* store_ = nullptr;
};

// Reads a table's current value for a key (Kafka's KTableValueGetter). One per task (Init per task).
template <typename K, typename V>
class TableGetter {
 public:
  virtual ~TableGetter() = default;
  virtual absl::Status Init(TaskContext* ctx, const std::string& node) = 0;
  // Get returns the value, nullopt if the key is absent (or filtered out).
  virtual absl::StatusOr<std::optional<V>> Get(const K& key) = 0;
};
template <typename K, typename V>
using TableGetterSupplier = std::function<std::unique_ptr<TableGetter<K, V>>()>;

// Looks the key up in the table's store.
template <typename KS, typename VS>
class StoreTableGetter final : public TableGetter<typename KS::Type, typename VS::Type> {
 public:
  using K = typename KS::Type;
  using V = typename VS::Type;
  StoreTableGetter(std::string store, KS ks, VS vs)
      : store_name_(std::move(store)), key_serde_(std::move(ks)), value_serde_(std::move(vs)) {}
  absl::Status Init(TaskContext* ctx, const std::string& node) override {
    auto store = FindKeyValueStore(ctx, node, store_name_);
    if (!store.ok()) return store.status();
    store_ = *store;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<V>> Get(const K& key) override {
    absl::Status st = SerializeWith(key_serde_, key, &key_buf_);
    if (!st.ok()) return st;
    absl::StatusOr<bool> found = store_->Get(key_buf_, &value_buf_);
    if (!found.ok()) return found.status();
    if (!*found) return std::optional<V>();
    V v{};
    st = value_serde_.Deserialize(value_buf_, &v);
    if (!st.ok()) return st;
    return std::optional<V>(std::move(v));
  }

 private:
  std::string store_name_;
  KS key_serde_;
  VS value_serde_;
  KeyValueStore* store_ = nullptr;
  std::string key_buf_, value_buf_;
};

// Applies fn(key, optional<V>) -> optional<V2> (a table's Filter or MapValues) to a parent getter's value.
template <typename K, typename V, typename V2, typename Fn>
class MappedTableGetter final : public TableGetter<K, V2> {
 public:
  MappedTableGetter(std::unique_ptr<TableGetter<K, V>> parent, Fn fn) : parent_(std::move(parent)), fn_(fn) {}
  absl::Status Init(TaskContext* ctx, const std::string& node) override { return parent_->Init(ctx, node); }
  absl::StatusOr<std::optional<V2>> Get(const K& key) override {
    absl::StatusOr<std::optional<V>> v = parent_->Get(key);
    if (!v.ok()) return v.status();
    return fn_(key, *v);
  }

 private:
  std::unique_ptr<TableGetter<K, V>> parent_;
  Fn fn_;
};

// Stream-table join: looks each stream record's key up in the table. Join (kLeft false) drops records
// without a match and calls joiner(const V&, const VT&); LeftJoin calls joiner(const V&, const
// std::optional<VT>&) for every record.
template <typename K, typename V, typename VT, typename VR, typename Joiner, bool kLeft>
class JoinTerminal {
 public:
  JoinTerminal(std::unique_ptr<TableGetter<K, VT>> getter, Joiner joiner)
      : getter_(std::move(getter)), joiner_(std::move(joiner)) {}

  void operator()(const K& k, const V& v) {
    absl::StatusOr<std::optional<VT>> t = getter_->Get(k);
    if (!t.ok()) [[unlikely]] {
      ctx_->Fail(absl::Status(t.status().code(), absl::StrCat("node ", *node_, ": ", t.status().message())));
      return;
    }
    if constexpr (kLeft) {
      const VR joined = joiner_(v, *t);
      out_.Forward(k, joined);
    } else {
      if (!t->has_value()) return;
      const VR joined = joiner_(v, **t);
      out_.Forward(k, joined);
    }
  }
  absl::Status Init(TaskContext* ctx, const std::string& name) {
    ctx_ = ctx;
    node_ = &name;
    return getter_->Init(ctx, name);
  }
  absl::Status Connect(const std::string& name, int port, ProcessorNode* child) {
    if (port != 0) return absl::InvalidArgumentError(absl::StrCat("node ", name, " has no output port ", port));
    return out_.Add(name, child);
  }
  void Close() {}

 private:
  std::unique_ptr<TableGetter<K, VT>> getter_;
  Joiner joiner_;
  TaskContext* ctx_ = nullptr;
  const std::string* node_ = nullptr;
  Downstream<K, VR> out_;
};

}  // namespace eddy::dsl_internal

namespace eddy::dsl_internal {

// KTable::ToStream's operator: forwards (key, value) for each update, drops tombstones.
template <typename K, typename V>
struct UnwrapChangeOp {
  using KOut = K;
  using VOut = V;
  template <typename Cont>
  EDDY_FUSED_INLINE void Apply(const K& k, const std::optional<V>& v, Cont& cont) {
    if (v.has_value()) cont(k, *v);
  }
};

}  // namespace eddy::dsl_internal
