// The physical node terminals of windowed aggregations (see nodes.h for the terminal interface):
//   - TimeWindowAggregateTerminal: Count/Reduce/Aggregate of tumbling and hopping windows into a window store;
//   - SessionAggregateTerminal: the same for session windows (merging sessions) into a session store;
// and what they share: late-record counting, the windowed output port, WindowStoreGetter (a windowed
// table's lookups) and the functions adding their stores (dsl/windowed_stores.cc).
// Updates flow downstream as (Windowed<K>, std::optional<VA>) changes, as a KTable's do: with the default
// EmitStrategy from the store's flush listener (every update, coalesced by the cache; a session merged
// into another becomes a tombstone), with EmitStrategy::OnWindowClose once per window from a
// WindowCloseBuffer when stream time reaches its close time.
//
// Implementation detail of the DSL (namespace dsl_internal).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/serde.h"
#include "eddy/core/status.h"
#include "eddy/dsl/chain.h"
#include "eddy/dsl/held_aggregates.h"
#include "eddy/dsl/table_nodes.h"
#include "eddy/dsl/window_close_buffer.h"
#include "eddy/dsl/windows.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/task_context.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/session_store.h"
#include "eddy/state/window_store.h"
#include "eddy/state/windowed.h"

namespace eddy {
class Materialized;
}  // namespace eddy

namespace eddy::dsl_internal {

class GraphBuilder;

// Finds the task's store `name` as an S, with an error naming the node.
template <typename S>
absl::StatusOr<S*> FindTaskStore(TaskContext* ctx, const std::string& node, const std::string& name) {
  auto* s = dynamic_cast<S*>(ctx->GetStateStore(name));
  if (s == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("node ", node, ": store \"", name,
                                                      "\" of the right kind is not in task ", ctx->task_id().ToString()));
  }
  return s;
}


// Adds the stores of a windowed aggregation at `node` and connects them; a bad spec or name makes Build
// fail. `close_buffer` non-empty: also the WindowCloseBuffer's key-value store of that name.
void AddWindowStore(GraphBuilder* graph, int node, const std::string& name, const Materialized& m,
                    int64_t window_size_ms, int64_t min_retention_ms, const std::string& close_buffer);
void AddSessionStore(GraphBuilder* graph, int node, const std::string& name, const Materialized& m,
                     int64_t min_retention_ms, const std::string& close_buffer);
void RecordGraphError(GraphBuilder* graph, const std::string& error);

// Reads a window's value from a window store, for Suppress and joins (Kafka's KTableWindowValueGetter).
// `value_offset`: bytes before the serialized value in each stored value (8 for sliding windows, whose
// values start with the window's largest record timestamp).
template <typename KS, typename VS>
class WindowStoreGetter final : public TableGetter<Windowed<typename KS::Type>, typename VS::Type> {
 public:
  using V = typename VS::Type;
  WindowStoreGetter(std::string store, KS ks, VS vs, size_t value_offset = 0)
      : store_name_(std::move(store)), key_serde_(std::move(ks)), value_serde_(std::move(vs)),
        value_offset_(value_offset) {}
  absl::Status Init(TaskContext* ctx, const std::string& node) override {
    EDDY_ASSIGN_OR_RETURN(store_, FindTaskStore<WindowStore>(ctx, node, store_name_));
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<V>> Get(const Windowed<typename KS::Type>& key) override {
    EDDY_RETURN_IF_ERROR(SerializeWith(key_serde_, key.key, &key_buf_));
    EDDY_ASSIGN_OR_RETURN(bool found, store_->Fetch(key_buf_, key.window.start, &value_buf_));
    if (!found) return std::optional<V>();
    if (value_buf_.size() < value_offset_) return absl::DataLossError("window store value too short");
    V v{};
    EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(absl::string_view(value_buf_).substr(value_offset_), &v));
    return std::optional<V>(std::move(v));
  }

 private:
  std::string store_name_;
  KS key_serde_;
  VS value_serde_;
  size_t value_offset_;
  WindowStore* store_ = nullptr;
  std::string key_buf_, value_buf_;
};



// How often (in wall-clock time) a node holding back final results checks for closed windows when no
// record reaches it (stream time moved by the idle timeout, or by records of the task that never reach the
// node). A wall-clock punctuator costs nothing per record; records reaching the node check inline.
inline constexpr int64_t kCloseCheckIntervalMs = 100;

// Counts a record dropped for a closed window in the task's dropped-records metric; logs the first drop of
// each node (later ones only count: a steady stream of late records must not flood the log).
class LateRecordCounter {
 public:
  // `end_inclusive`: the window is [start, end] (sessions), else [start, end).
  void Drop(TaskContext* ctx, const std::string& node, int64_t timestamp, Window window, int64_t stream_time,
            bool end_inclusive) {
    ++ctx->metrics().dropped_records;
    ++ctx->metrics().late_records_dropped;
    ++dropped_;
    if (logged_) return;
    logged_ = true;
    LogLine(ctx->config().log,
            absl::StrCat("Skipping record for expired window (task ", ctx->task_id().ToString(), ", node ", node,
                         "): timestamp ", timestamp, ", window [", window.start, ",", window.end,
                         end_inclusive ? "]" : ")", ", stream time ",
                         stream_time, "; further drops are only counted in dropped-records"));
  }
  int64_t dropped() const { return dropped_; }

 private:
  bool logged_ = false;
  int64_t dropped_ = 0;
};

// The output port of a windowed aggregation: forwards a change with its own timestamp and no headers.
template <typename K, typename VA>
class WindowedOut {
 public:
  absl::Status Connect(const std::string& node, int port, ProcessorNode* child) {
    if (port != 0) return absl::InvalidArgumentError(absl::StrCat("node ", node, " has no output port ", port));
    return out_.Add(node, child);
  }
  void Forward(TaskContext* ctx, const Windowed<K>& key, const std::optional<VA>& value, int64_t timestamp) {
    const int64_t ts = ctx->timestamp();
    const absl::Span<const HeaderRef> headers = ctx->headers();
    ctx->set_timestamp(timestamp);
    ctx->set_headers({});
    out_.Forward(key, value);
    ctx->set_timestamp(ts);
    ctx->set_headers(headers);
  }
  bool empty() const { return out_.size() == 0; }

 private:
  Downstream<Windowed<K>, std::optional<VA>> out_;
};

inline void AppendBigEndian64(int64_t v, std::string* out) {
  char buf[8];
  absl::big_endian::Store64(buf, static_cast<uint64_t>(v));
  out->append(buf, 8);
}
inline int64_t LoadBigEndian64At(absl::string_view s, size_t pos) {
  return static_cast<int64_t>(absl::big_endian::Load64(s.data() + pos));
}

// What the windowed aggregation terminals share: the store lookup, the close buffer and its wall-clock
// check (EmitStrategy::OnWindowClose), the store's flush listener (the default strategy), the output port
// and error reporting. CRTP: Derived supplies the per-kind work, called statically (no virtual call):
//   absl::Status Apply(const K&, const V&);                      // adds a record to its windows
//   absl::Status EmitUpdates(absl::Span<const Store's Change>);  // the flush listener's changes downstream
//   absl::Status EmitClosed(int64_t stream_time);                // the closed windows in buffer_ downstream
// Store: WindowStore or SessionStore. Owned by one task's node; used by its stream thread only.
template <typename Derived, typename Store, typename K, typename V, typename KS, typename VAS>
class WindowedAggregateTerminal {
 public:
  using VA = typename VAS::Type;

  void operator()(const K& k, const V& v) {
    // Windows this record's timestamp closed go out first, while the store still has them (applying the
    // record may expire their segment).
    absl::Status st;
    if (on_close() && buffer_.HasClosed(ctx_->stream_time())) st = self().EmitClosed(ctx_->stream_time());
    if (st.ok()) st = self().Apply(k, v);
    if (!st.ok()) [[unlikely]] Fail(st);
  }
  absl::Status Init(TaskContext* ctx, const std::string& name) {
    ctx_ = ctx;
    node_ = &name;
    EDDY_ASSIGN_OR_RETURN(store_, FindTaskStore<Store>(ctx, name, store_name_));
    if (on_close()) {
      EDDY_ASSIGN_OR_RETURN(KeyValueStore * buffer, FindTaskStore<KeyValueStore>(ctx, name, buffer_name_));
      EDDY_RETURN_IF_ERROR(buffer_.Init(buffer));
      ctx->Schedule(kCloseCheckIntervalMs, PunctuationType::kWallClockTime, [this](int64_t) {
        absl::Status st = self().EmitClosed(ctx_->stream_time());
        if (!st.ok()) Fail(st);
      });
    } else {
      store_->SetFlushListener([this](auto changes) { return self().EmitUpdates(changes); },
                               /*send_old_values=*/false);
    }
    return absl::OkStatus();
  }
  absl::Status Connect(const std::string& name, int port, ProcessorNode* child) { return out_.Connect(name, port, child); }
  void Close() {}

 protected:
  // `close_buffer`: the name of the WindowCloseBuffer's store with EmitStrategy::OnWindowClose, else empty.
  WindowedAggregateTerminal(std::string store, std::string close_buffer, KS ks, VAS vas)
      : store_name_(std::move(store)), buffer_name_(std::move(close_buffer)), key_serde_(std::move(ks)),
        value_serde_(std::move(vas)) {}

  bool on_close() const { return !buffer_name_.empty(); }
  // Fails the task with `st`, naming the node.
  void Fail(const absl::Status& st) {
    ctx_->Fail(absl::Status(st.code(), absl::StrCat("node ", *node_, ": ", st.message())));
  }

  std::string store_name_;
  std::string buffer_name_;
  KS key_serde_;
  VAS value_serde_;
  WindowedOut<K, VA> out_;
  LateRecordCounter late_;
  WindowCloseBuffer buffer_;
  TaskContext* ctx_ = nullptr;
  const std::string* node_ = nullptr;  // the node's name, owned by the node
  Store* store_ = nullptr;
  std::string key_buf_, value_buf_, windowed_buf_;
  Windowed<K> windowed_{};

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// The base's members, for a terminal deriving from WindowedAggregateTerminal (a dependent base).
#define EDDY_WINDOWED_TERMINAL_MEMBERS(Base)                                                             \
  friend Base;                                                                                          \
  using Base::on_close;                                                                                 \
  using Base::store_name_;                                                                              \
  using Base::key_serde_;                                                                               \
  using Base::value_serde_;                                                                             \
  using Base::out_;                                                                                     \
  using Base::late_;                                                                                    \
  using Base::buffer_;                                                                                  \
  using Base::ctx_;                                                                                     \
  using Base::node_;                                                                                    \
  using Base::store_;                                                                                   \
  using Base::key_buf_;                                                                                 \
  using Base::value_buf_;                                                                               \
  using Base::windowed_buf_;                                                                            \
  using Base::windowed_

// Count/Reduce/Aggregate over TimeWindows. fn(key, value, const VA* old) -> VA (old null for a new window).
// `close_buffer`: the name of the WindowCloseBuffer's store with EmitStrategy::OnWindowClose, else empty.
//
// With a cached store, the windows a batch of records updates are held as typed aggregates (HeldWrites):
// a record whose window is already held costs a hash lookup and fn, not a cache read, a deserialization, a
// serialization and a cache write; each held window is written to the store once, when the batch ends (in
// the order the windows were first updated, which is the cache's dirty order either way) or before anyone
// reads the store. Without a cache every update is written at once, so every update reaches the changelog
// and the flush listener, as Kafka does with caching off.
template <typename K, typename V, typename KS, typename VAS, typename Fn>
class TimeWindowAggregateTerminal final
    : public WindowedAggregateTerminal<TimeWindowAggregateTerminal<K, V, KS, VAS, Fn>, WindowStore, K, V, KS, VAS>,
      public HeldWrites {
  using Base = WindowedAggregateTerminal<TimeWindowAggregateTerminal, WindowStore, K, V, KS, VAS>;
  EDDY_WINDOWED_TERMINAL_MEMBERS(Base);

 public:
  using VA = typename VAS::Type;
  TimeWindowAggregateTerminal(std::string store, std::string close_buffer, TimeWindows windows, KS ks, VAS vas,
                              Fn fn)
      : Base(std::move(store), std::move(close_buffer), std::move(ks), std::move(vas)), windows_(windows),
        fn_(std::move(fn)) {}

  absl::Status Init(TaskContext* ctx, const std::string& name) {
    EDDY_RETURN_IF_ERROR(Base::Init(ctx, name));
    held_.Start(store_, ctx, this);
    return absl::OkStatus();
  }
  void Close() { held_.Stop(); }

  absl::Status WriteBack() override {
    pending_ = false;
    return held_.WriteBackWith(value_serde_, &value_buf_, [this](const auto& h, absl::string_view bytes) {
      return store_->Put(h.key, bytes, h.start);
    });
  }

 private:
  absl::Status Apply(const K& k, const V& v) {
    const int64_t ts = ctx_->timestamp();
    const int64_t stream_time = ctx_->stream_time();
    EDDY_RETURN_IF_ERROR(SerializeWith(key_serde_, k, &key_buf_));
    absl::Status st;
    windows_.ForEachWindow(ts, [&](int64_t start) {
      if (!st.ok()) return;
      // Kafka: a window is updated while its end is after stream time - grace.
      if (windows_.CloseTime(start) <= stream_time) {
        late_.Drop(ctx_, *node_, ts, Window{start, start + windows_.size_ms}, stream_time, false);
        return;
      }
      st = Update(k, v, start);
    });
    return st;
  }

  absl::Status Update(const K& k, const V& v, int64_t start) {
    auto fn = [&](const VA* old) { return fn_(k, v, old); };
    auto read = [this, start] { return ReadStored(start); };
    bool is_new;
    if (held_.HoldNext()) [[likely]] {
      EDDY_ASSIGN_OR_RETURN(is_new, held_.Update(key_buf_, start, ctx_->timestamp(), read, fn));
      pending_ = true;
    } else {
      EDDY_ASSIGN_OR_RETURN(const VA* old, read());
      is_new = old == nullptr;
      agg_ = fn(old);
      EDDY_RETURN_IF_ERROR(SerializeWith(value_serde_, agg_, &value_buf_));
      EDDY_RETURN_IF_ERROR(store_->Put(key_buf_, value_buf_, start));
    }
    if (!on_close() || !is_new) return absl::OkStatus();
    windowed_buf_ = key_buf_;
    AppendBigEndian64(start, &windowed_buf_);
    return buffer_.Add(windows_.CloseTime(start), windowed_buf_);
  }

  // The store's aggregate of (key_buf_, start), in agg_ (null: none), read without writing back what is
  // held (other windows).
  absl::StatusOr<const VA*> ReadStored(int64_t start) {
    const bool pending = std::exchange(pending_, false);
    absl::StatusOr<bool> found = store_->Fetch(key_buf_, start, &value_buf_);
    pending_ = pending;
    if (!found.ok()) return found.status();
    if (!*found) return nullptr;
    EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(value_buf_, &agg_));
    return &agg_;
  }

  // The flush listener (default emit strategy): each change of the store goes downstream.
  absl::Status EmitUpdates(absl::Span<const WindowChange> changes) {
    if (out_.empty()) return absl::OkStatus();
    for (const WindowChange& c : changes) {
      EDDY_RETURN_IF_ERROR(key_serde_.Deserialize(c.key, &windowed_.key));
      windowed_.window = Window{c.window_start, c.window_start + windows_.size_ms};
      std::optional<VA> value;
      if (c.new_value) {
        EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(*c.new_value, &agg_));
        value = agg_;
      }
      out_.Forward(ctx_, windowed_, value, c.timestamp);
      if (ctx_->failed()) break;
    }
    return absl::OkStatus();
  }

  // OnWindowClose: every buffered window closed by `stream_time` goes downstream once, with its value read
  // from the store now, stamped with the window's last millisecond.
  absl::Status EmitClosed(int64_t stream_time) {
    return buffer_.Evict(stream_time, [this](absl::string_view windowed) -> absl::Status {
      const absl::string_view key = windowed.substr(0, windowed.size() - 8);
      const int64_t start = LoadBigEndian64At(windowed, windowed.size() - 8);
      EDDY_ASSIGN_OR_RETURN(bool found, store_->Fetch(key, start, &value_buf_));
      if (!found) return absl::OkStatus();  // expired from the store (retention shorter than the close)
      EDDY_RETURN_IF_ERROR(key_serde_.Deserialize(key, &windowed_.key));
      EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(value_buf_, &agg_));
      windowed_.window = Window{start, start + windows_.size_ms};
      out_.Forward(ctx_, windowed_, std::optional<VA>(agg_), windowed_.window.end - 1);
      return absl::OkStatus();
    });
  }

  TimeWindows windows_;
  Fn fn_;
  VA agg_{};
  HeldAggregates<VA> held_;
};

// Count/Reduce/Aggregate over SessionWindows (Kafka's KStreamSessionWindowAggregate). init() -> VA starts
// a session; agg(key, value, aggregate) -> VA adds a record; merge(key, a, b) -> VA merges two sessions.
template <typename K, typename V, typename KS, typename VAS, typename Initializer, typename Agg, typename Merge>
class SessionAggregateTerminal final
    : public WindowedAggregateTerminal<SessionAggregateTerminal<K, V, KS, VAS, Initializer, Agg, Merge>,
                                       SessionStore, K, V, KS, VAS> {
  using Base = WindowedAggregateTerminal<SessionAggregateTerminal, SessionStore, K, V, KS, VAS>;
  EDDY_WINDOWED_TERMINAL_MEMBERS(Base);

 public:
  using VA = typename VAS::Type;
  SessionAggregateTerminal(std::string store, std::string close_buffer, SessionWindows windows, KS ks, VAS vas,
                           Initializer init, Agg agg, Merge merge, bool reduce)
      : Base(std::move(store), std::move(close_buffer), std::move(ks), std::move(vas)), windows_(windows),
        init_(std::move(init)), agg_fn_(std::move(agg)), merge_(std::move(merge)), reduce_(reduce) {}

 private:
  struct Found {
    Window window;
    std::string value;
  };
  absl::Status Apply(const K& k, const V& v) {
    const int64_t ts = ctx_->timestamp();
    const int64_t stream_time = ctx_->stream_time();
    EDDY_RETURN_IF_ERROR(SerializeWith(key_serde_, k, &key_buf_));
    Window merged{ts, ts};
    // Reduce (Kafka's null initial aggregate): a session's first value is its aggregate.
    VA agg = init_();
    bool has_agg = !reduce_;
    found_.clear();
    {
      SessionStoreIterator it = store_->FindSessions(key_buf_, std::max<int64_t>(0, ts - windows_.gap_ms), ts + windows_.gap_ms);
      for (; it.Valid(); it.Next()) found_.push_back(Found{it.window(), std::string(it.value())});
      EDDY_RETURN_IF_ERROR(it.status());
    }
    for (const Found& f : found_) {
      EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(f.value, &tmp_));
      agg = has_agg ? VA(merge_(k, agg, tmp_)) : tmp_;
      has_agg = true;
      merged.start = std::min(merged.start, f.window.start);
      merged.end = std::max(merged.end, f.window.end);
    }
    if (windows_.CloseTime(merged.end) <= stream_time) {
      late_.Drop(ctx_, *node_, ts, merged, stream_time, true);
      return absl::OkStatus();
    }
    for (const Found& f : found_) {
      if (f.window == merged) continue;  // overwritten by the Put below
      EDDY_RETURN_IF_ERROR(store_->Remove(Windowed<absl::string_view>{key_buf_, f.window}));
      if (on_close()) EDDY_RETURN_IF_ERROR(buffer_.Remove(windows_.CloseTime(f.window.end), WindowedKey(f.window)));
    }
    if constexpr (std::is_same_v<VA, V>) {
      agg = has_agg ? VA(agg_fn_(k, v, agg)) : v;
    } else {
      agg = agg_fn_(k, v, agg);
    }
    EDDY_RETURN_IF_ERROR(SerializeWith(value_serde_, agg, &value_buf_));
    EDDY_RETURN_IF_ERROR(store_->Put(Windowed<absl::string_view>{key_buf_, merged}, value_buf_));
    if (on_close()) EDDY_RETURN_IF_ERROR(buffer_.Add(windows_.CloseTime(merged.end), WindowedKey(merged)));
    return absl::OkStatus();
  }

  // key | end | start, as SessionWindowedSerde.
  const std::string& WindowedKey(Window w) {
    windowed_buf_ = key_buf_;
    AppendBigEndian64(w.end, &windowed_buf_);
    AppendBigEndian64(w.start, &windowed_buf_);
    return windowed_buf_;
  }

  absl::Status EmitUpdates(absl::Span<const SessionChange> changes) {
    if (out_.empty()) return absl::OkStatus();
    for (const SessionChange& c : changes) {
      EDDY_RETURN_IF_ERROR(key_serde_.Deserialize(c.key, &windowed_.key));
      windowed_.window = c.window;
      std::optional<VA> value;
      if (c.new_value) {
        EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(*c.new_value, &tmp_));
        value = tmp_;
      }
      out_.Forward(ctx_, windowed_, value, c.window.end);
      if (ctx_->failed()) break;
    }
    return absl::OkStatus();
  }

  absl::Status EmitClosed(int64_t stream_time) {
    return buffer_.Evict(stream_time, [this](absl::string_view windowed) -> absl::Status {
      const absl::string_view key = windowed.substr(0, windowed.size() - 16);
      const Window w{LoadBigEndian64At(windowed, windowed.size() - 8), LoadBigEndian64At(windowed, windowed.size() - 16)};
      EDDY_ASSIGN_OR_RETURN(bool found, store_->FetchSession(key, w.start, w.end, &value_buf_));
      if (!found) return absl::OkStatus();
      EDDY_RETURN_IF_ERROR(key_serde_.Deserialize(key, &windowed_.key));
      EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(value_buf_, &tmp_));
      windowed_.window = w;
      out_.Forward(ctx_, windowed_, std::optional<VA>(tmp_), w.end);
      return absl::OkStatus();
    });
  }

  SessionWindows windows_;
  Initializer init_;
  Agg agg_fn_;
  Merge merge_;
  bool reduce_;
  std::vector<Found> found_;
  VA tmp_{};
};

}  // namespace eddy::dsl_internal
