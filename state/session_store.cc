// The session store: store keys are key | session end | session start (store_key_format.h), segmented by
// session end.
#include "eddy/state/session_store.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "state/core_store.h"
#include "state/store_key_format.h"

namespace eddy {

absl::string_view SessionStoreIterator::key() const { return state_internal::SessionKeyKey(raw_->key()); }
Window SessionStoreIterator::window() const {
  return Window{state_internal::SessionKeyStart(raw_->key()), state_internal::SessionKeyEnd(raw_->key())};
}

namespace state_internal {
namespace {

constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

class SessionStoreImpl final : public CoreStore<SessionStore> {
 public:
  using CoreStore::CoreStore;

  absl::Status Put(const Windowed<absl::string_view>& session, absl::string_view value) override {
    EDDY_RETURN_IF_ERROR(Check(session.window.start, session.window.end));
    EncodeSessionKey(session.key, session.window.start, session.window.end, &key_);
    return core_.Write(session.window.end, key_, value);
  }

  absl::Status Remove(const Windowed<absl::string_view>& session) override {
    EDDY_RETURN_IF_ERROR(Check(session.window.start, session.window.end));
    EncodeSessionKey(session.key, session.window.start, session.window.end, &key_);
    return core_.Write(session.window.end, key_, std::nullopt);
  }

  absl::StatusOr<bool> FetchSession(absl::string_view key, int64_t start, int64_t end, std::string* value) override {
    EDDY_RETURN_IF_ERROR(core_.CheckOpen());
    EDDY_RETURN_IF_ERROR(Check(start, end));
    if (end < core_.live_from()) return false;
    EncodeSessionKey(key, start, end, &key_);
    return core_.Get(end, key_, value, /*read_through=*/false);
  }

  SessionStoreIterator FindSessions(absl::string_view key, int64_t earliest_session_end,
                                    int64_t latest_session_start) override {
    const int64_t from = std::max(earliest_session_end, core_.live_from());
    std::string lower, upper;
    EncodeSessionKey(key, 0, from, &lower);
    EncodeSessionKey(key, kMaxTime, kMaxTime, &upper);
    upper.push_back('\0');  // just after the last key of the range
    const size_t size = key.size() + kSessionSuffixSize;
    auto filter = [size, from, latest_session_start](absl::string_view k) {
      return k.size() == size && SessionKeyEnd(k) >= from && SessionKeyStart(k) <= latest_session_start;
    };
    return SessionStoreIterator(core_.Range(from, kMaxTime, std::move(lower), std::move(upper), filter));
  }

  SessionStoreIterator Fetch(absl::string_view key) override { return FindSessions(key, 0, kMaxTime); }

  int64_t retention_ms() const override { return core_.options().retention_ms; }
  int64_t segment_interval_ms() const override { return core_.options().segment_interval_ms; }
  int64_t observed_stream_time() const override { return core_.observed_stream_time(); }
  int64_t expired_records_dropped() const override { return core_.expired_records_dropped(); }

  void SetFlushListener(SessionFlushListener listener, bool send_old_values) override {
    if (listener == nullptr) {
      core_.SetListener(nullptr, false);
      return;
    }
    core_.SetListener(
        [this, listener = std::move(listener)](absl::Span<const RawChange> raw) {
          changes_.clear();
          for (const RawChange& r : raw) {
            changes_.push_back({SessionKeyKey(r.store_key),
                                Window{SessionKeyStart(r.store_key), SessionKeyEnd(r.store_key)}, r.new_value,
                                r.old_value, r.timestamp});
          }
          return listener(changes_);
        },
        send_old_values);
  }

 private:
  absl::Status Check(int64_t start, int64_t end) const {
    if (start < 0 || end < start) {
      return absl::InvalidArgumentError(
          absl::StrCat("session store ", name(), ": invalid session [", start, ", ", end, "]"));
    }
    return absl::OkStatus();
  }

  std::string key_;  // scratch store key
  std::vector<SessionChange> changes_;
};

}  // namespace

std::unique_ptr<SessionStore> NewSessionStore(StoreOptions options) {
  return std::make_unique<SessionStoreImpl>(std::move(options));
}

}  // namespace state_internal
}  // namespace eddy
