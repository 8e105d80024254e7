#include "state/store_core.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "state/store_key_format.h"

namespace eddy::state_internal {
namespace {

// The metadata key of a segmented store's observed stream time (8 bytes big-endian).
constexpr char kStreamTimeKey[] = "eddy.observed-stream-time";
// Kafka's windowstore.changelog.additional.retention.ms: one day.
constexpr int64_t kChangelogAdditionalRetentionMs = 86400000;

}  // namespace


namespace {
// Kafka names a store's cache namespace "<task id>-<store>".
std::string CacheNamespace(const StateStoreContext& context, absl::string_view store) {
  return absl::StrCat(context.task_id, "-", store);
}
}  // namespace

StoreCore::StoreCore(StoreOptions options) : options_(std::move(options)) {}

// Without Close, the cache's dirty entries are dropped (they never reached the changelog either: the task's
// input is reprocessed from its last commit).
StoreCore::~StoreCore() = default;

std::map<std::string, std::string> StoreCore::ChangelogConfig() const {
  std::map<std::string, std::string> config;
  if (!options_.logging) return config;
  if (options_.kind == StoreKind::kKeyValue) {
    config["cleanup.policy"] = "compact";
  } else {
    config["cleanup.policy"] = "compact,delete";
    config["retention.ms"] = absl::StrCat(options_.retention_ms + kChangelogAdditionalRetentionMs);
  }
  for (const auto& [k, v] : options_.changelog_config) config[k] = v;
  return config;
}

absl::Status StoreCore::CheckOpen() const {
  if (is_open()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("store ", options_.name, closed_ ? " is closed" : " is not initialised"));
}

absl::Status StoreCore::Init(StateStoreContext* context) {
  if (closed_ || is_open()) {
    return absl::FailedPreconditionError(absl::StrCat("store ", options_.name, ": Init called twice"));
  }
  if (context == nullptr) return absl::InvalidArgumentError("null StateStoreContext");
  if (options_.logging && context->changelog == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("store ", options_.name, " has logging enabled but the context has no changelog sink"));
  }
  if (options_.persistent) {
    if (context->task_dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("store ", options_.name, ": the context has no task_dir"));
    }
    std::string path = absl::StrCat(context->task_dir, "/rocksdb/", options_.name);
    EDDY_ASSIGN_OR_RETURN(backend_,
                          OpenRocksDbBackend(path, options_.segment_interval_ms, context->block_cache));
  } else {
    backend_ = NewMemoryBackend();
  }
  if (options_.wrap_backend_for_testing) backend_ = options_.wrap_backend_for_testing(std::move(backend_));
  context_ = context;
  topic_ = ChangelogTopicName(context->application_id, options_.name);
  if (options_.caching && context->cache != nullptr) {
    cache_ = std::make_unique<NamedCache>(
        CacheNamespace(*context, options_.name), context->cache,
        [this](absl::Span<NamedCache::Entry* const> entries) { return FlushCacheEntries(entries); });
  }
  if (segmented()) {
    for (int64_t id : backend_->Segments()) known_segments_.insert(id);
    // Unlike Kafka, which starts at -1 (so expired windows of a reopened store are visible until the next
    // put), resume the stream time saved by the last flush.
    EDDY_ASSIGN_OR_RETURN(std::optional<std::string> saved, backend_->GetMetadata(kStreamTimeKey));
    if (saved.has_value()) {
      if (saved->size() != 8) {
        return absl::DataLossError(absl::StrCat("store ", options_.name, ": bad saved stream time"));
      }
      saved_stream_time_ = LoadBigEndian64(saved->data());
      EDDY_RETURN_IF_ERROR(AdvanceStreamTime(saved_stream_time_));
    }
  }
  return absl::OkStatus();
}

absl::Status StoreCore::SaveStreamTime() {
  if (!segmented() || observed_stream_time_ == saved_stream_time_) return absl::OkStatus();
  std::string value;
  AppendBigEndian64(observed_stream_time_, &value);
  EDDY_RETURN_IF_ERROR(backend_->PutMetadata(kStreamTimeKey, value));
  saved_stream_time_ = observed_stream_time_;
  return absl::OkStatus();
}

absl::Status StoreCore::Flush() {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (cache_ != nullptr) EDDY_RETURN_IF_ERROR(cache_->Flush());
  EDDY_RETURN_IF_ERROR(SaveStreamTime());
  return backend_->Flush();
}

absl::Status StoreCore::Close() {
  if (!is_open()) return absl::OkStatus();
  absl::Status s = Flush();
  cache_.reset();
  absl::Status closed = backend_->Close();
  backend_.reset();
  closed_ = true;
  return s.ok() ? closed : s;
}

int64_t StoreCore::SegmentOf(int64_t time) const {
  return segmented() ? SegmentId(time, options_.segment_interval_ms) : 0;
}

int64_t StoreCore::live_from() const {
  if (!segmented()) return 0;
  return std::max<int64_t>(0, observed_stream_time_ - options_.retention_ms + 1);
}

absl::string_view StoreCore::CacheKey(int64_t segment, absl::string_view store_key) {
  if (!segmented()) return store_key;
  EncodeSegmentedCacheKey(segment, store_key, &cache_key_);
  return cache_key_;
}

absl::Status StoreCore::AdvanceStreamTime(int64_t time) {
  if (time <= observed_stream_time_) return absl::OkStatus();
  observed_stream_time_ = time;
  const int64_t min_live = SegmentId(time - options_.retention_ms, options_.segment_interval_ms);
  if (min_live <= min_live_segment_) return absl::OkStatus();
  min_live_segment_ = min_live;
  known_segments_.erase(known_segments_.begin(), known_segments_.lower_bound(min_live));
  return backend_->DropSegmentsBefore(min_live);
}

absl::Status StoreCore::Write(int64_t time, absl::string_view store_key, std::optional<absl::string_view> value) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (applying_) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", options_.name, ": its flush listener wrote to it"));
  }
  int64_t segment = 0;
  if (segmented()) {
    EDDY_RETURN_IF_ERROR(AdvanceStreamTime(time));
    segment = SegmentOf(time);
    if (segment < min_live_segment_) {
      ++expired_dropped_;
      return absl::OkStatus();
    }
    // Writes go mostly to the newest segment: no tree search for it.
    if (known_segments_.empty() || *known_segments_.rbegin() != segment) known_segments_.insert(segment);
  }
  const int64_t timestamp = context_->record.timestamp;
  if (cache_ != nullptr) return cache_->Put(CacheKey(segment, store_key), value, timestamp, /*dirty=*/true);
  Change change{segment, store_key, value, timestamp};
  return Apply(absl::MakeConstSpan(&change, 1));
}

absl::Status StoreCore::WriteAll(absl::Span<const KeyValueEntry> entries) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (cache_ != nullptr || applying_) {
    for (const KeyValueEntry& e : entries) EDDY_RETURN_IF_ERROR(Write(-1, e.key, e.value));
    return absl::OkStatus();
  }
  changes_.clear();
  for (const KeyValueEntry& e : entries) changes_.push_back({0, e.key, e.value, context_->record.timestamp});
  return Apply(changes_);
}

absl::Status StoreCore::FlushCacheEntries(absl::Span<NamedCache::Entry* const> entries) {
  changes_.clear();
  for (const NamedCache::Entry* e : entries) {
    absl::string_view key = *e->key;
    int64_t segment = 0;
    if (segmented()) {
      segment = LoadBigEndian64(key.data());
      key.remove_prefix(kSegmentPrefixSize);
    }
    std::optional<absl::string_view> value;
    if (e->has_value) value = e->value;
    changes_.push_back({segment, key, value, e->timestamp});
  }
  return Apply(changes_);
}

absl::Status StoreCore::Apply(absl::Span<const Change> changes) {
  applying_ = true;
  absl::Status s = [&]() -> absl::Status {
    const bool want_old = listener_ != nullptr && send_old_values_;
    raw_changes_.clear();
    writes_.clear();
    write_timestamps_.clear();
    if (want_old && old_values_.size() < changes.size()) old_values_.resize(changes.size());
    for (size_t i = 0; i < changes.size(); ++i) {
      const Change& c = changes[i];
      RawChange raw{c.store_key, c.value, std::nullopt, c.timestamp};
      if (want_old) {
        EDDY_ASSIGN_OR_RETURN(bool found, backend_->Get(c.segment, c.store_key, &old_values_[i]));
        if (found) raw.old_value = old_values_[i];
      }
      if (listener_ != nullptr) raw_changes_.push_back(raw);
      // A cached write whose segment expired before the flush is reported but not stored or logged.
      if (c.segment >= min_live_segment_ || !segmented()) {
        writes_.push_back({c.segment, c.store_key, c.value});
        write_timestamps_.push_back(c.timestamp);
      }
    }
    EDDY_RETURN_IF_ERROR(backend_->Write(writes_));
    if (options_.logging) {
      for (size_t i = 0; i < writes_.size(); ++i) {
        EDDY_RETURN_IF_ERROR(context_->changelog->Send(topic_, context_->partition, writes_[i].key,
                                                       writes_[i].value, write_timestamps_[i]));
      }
    }
    if (listener_ != nullptr && !raw_changes_.empty()) return listener_(raw_changes_);
    return absl::OkStatus();
  }();
  applying_ = false;
  return s;
}

absl::StatusOr<bool> StoreCore::Get(int64_t time, absl::string_view store_key, std::string* value,
                                    bool read_through) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  const int64_t segment = SegmentOf(time);
  if (segmented() && segment < min_live_segment_) return false;
  if (cache_ != nullptr) {
    if (const NamedCache::Entry* e = cache_->Find(CacheKey(segment, store_key))) {
      if (!e->has_value) return false;
      value->assign(e->value);
      return true;
    }
  }
  EDDY_ASSIGN_OR_RETURN(bool found, backend_->Get(segment, store_key, value));
  if (found && read_through && cache_ != nullptr && !applying_) {
    EDDY_RETURN_IF_ERROR(
        cache_->Put(CacheKey(segment, store_key), *value, context_->record.timestamp, /*dirty=*/false));
  }
  return found;
}

std::unique_ptr<KeyValueIterator> StoreCore::Range(int64_t time_from, int64_t time_to, std::string lower,
                                                   std::optional<std::string> upper,
                                                   SegmentChainIterator::Filter filter) {
  if (absl::Status s = CheckOpen(); !s.ok()) return std::make_unique<EmptyIterator>(std::move(s));
  std::vector<int64_t> segments;
  if (!segmented()) {
    segments.push_back(0);
  } else if (time_from <= time_to) {
    const int64_t from = std::max(SegmentOf(time_from), min_live_segment_);
    const int64_t to = SegmentOf(time_to);
    for (auto it = known_segments_.lower_bound(from); it != known_segments_.end() && *it <= to; ++it) {
      segments.push_back(*it);
    }
  }
  auto factory = [this, lower = std::move(lower), upper = std::move(upper)](int64_t segment) {
    std::optional<absl::string_view> upper_view;
    if (upper.has_value()) upper_view = *upper;
    std::unique_ptr<KeyValueIterator> store = backend_->NewIterator(segment, lower, upper_view);
    std::unique_ptr<NamedCache::Cursor> cursor;
    if (cache_ != nullptr && !segmented()) {
      cursor = std::make_unique<NamedCache::Cursor>(cache_.get(), lower, upper_view, 0);
    } else if (cache_ != nullptr) {
      std::string cache_lower, cache_upper;
      EncodeSegmentedRange(segment, lower, upper, &cache_lower, &cache_upper);
      cursor = std::make_unique<NamedCache::Cursor>(cache_.get(), cache_lower, cache_upper, kSegmentPrefixSize);
    }
    return std::unique_ptr<KeyValueIterator>(std::make_unique<MergedIterator>(std::move(store), std::move(cursor)));
  };
  return std::make_unique<SegmentChainIterator>(std::move(segments), std::move(factory), std::move(filter));
}

absl::StatusOr<uint64_t> StoreCore::ApproximateNumEntries() {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  return backend_->ApproximateNumEntries();
}

void StoreCore::SetListener(RawListener listener, bool send_old_values) {
  listener_ = std::move(listener);
  send_old_values_ = send_old_values;
}

}  // namespace eddy::state_internal
