// LogCleaner: choosing logs to clean, the cleaner threads and the cleaner checkpoint. See log_cleaner.h.
#include "broker/log_cleaner.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "broker/file_util.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

// Checkpoint format (Kafka's cleaner-offset-checkpoint plus the topic id):
//   0                                  version
//   2                                  number of entries
//   orders 0 1500 <32 hex digits>      topic partition first-dirty-offset topic-id
constexpr int kCheckpointVersion = 0;

}  // namespace

std::unique_ptr<LogCleaner> LogCleaner::Create(std::string data_dir, LogCleanerOptions options, LogLister lister,
                                               Clock clock) {
  std::unique_ptr<LogCleaner> c(
      new LogCleaner(std::move(data_dir), std::move(options), std::move(lister), std::move(clock)));
  c->LoadCheckpoint();
  c->Refresh();
  return c;
}

LogCleaner::LogCleaner(std::string data_dir, LogCleanerOptions options, LogLister lister, Clock clock)
    : data_dir_(std::move(data_dir)),
      options_(std::move(options)),
      lister_(std::move(lister)),
      clock_(std::move(clock)) {}

LogCleaner::~LogCleaner() { Stop(); }

std::unique_ptr<Cleaner> LogCleaner::NewCleaner() const {
  const int64_t threads = std::max(options_.threads, 1);
  const int64_t map_bytes = std::max<int64_t>(options_.dedupe_buffer_bytes / threads, 1);
  // Kafka splits log.cleaner.io.buffer.size into a read and a write buffer per thread.
  const int64_t io_bytes = std::max<int64_t>(options_.io_buffer_bytes / threads / 2, 4096);
  return std::make_unique<Cleaner>(map_bytes, static_cast<size_t>(io_bytes));
}

void LogCleaner::Start() {
  if (!options_.enable) return;
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { RunThread(); });
}

void LogCleaner::Stop() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    for (auto& [tp, state] : logs_) {
      if (state.in_progress) state.abort->store(true);
    }
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](int* in_progress) { return *in_progress == 0; }, &in_progress_));  // a RunNow on another thread
}

// ---- Checkpoint ------------------------------------------------------------------------------------------

void LogCleaner::LoadCheckpoint() {
  const std::string path = absl::StrCat(data_dir_, "/", kCleanerCheckpointFile);
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    if (!absl::IsNotFound(text.status())) {
      std::fprintf(stderr, "eddy: ignoring %s: %s\n", path.c_str(), text.status().ToString().c_str());
    }
    return;
  }
  std::vector<absl::string_view> lines = absl::StrSplit(*text, '\n', absl::SkipWhitespace());
  int64_t version = -1, count = -1;
  bool ok = lines.size() >= 2 && absl::SimpleAtoi(lines[0], &version) && version == kCheckpointVersion &&
            absl::SimpleAtoi(lines[1], &count) && count == static_cast<int64_t>(lines.size()) - 2;
  absl::node_hash_map<TopicPartition, LogState> states;
  for (size_t i = 2; ok && i < lines.size(); ++i) {
    std::vector<absl::string_view> f = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    TopicPartition tp;
    int64_t offset;
    ok = f.size() == 4 && absl::SimpleAtoi(f[1], &tp.partition) && absl::SimpleAtoi(f[2], &offset) && offset >= 0;
    if (!ok) break;
    tp.topic = std::string(f[0]);
    LogState& s = states[tp];
    s.first_dirty = offset;
    s.topic_id = absl::HexStringToBytes(f[3]);
  }
  if (!ok) {
    std::fprintf(stderr, "eddy: ignoring %s: malformed; compacted logs will be cleaned from their start\n",
                 path.c_str());
    return;
  }
  absl::MutexLock l(&mu_);
  logs_ = std::move(states);
}

absl::Status LogCleaner::WriteCheckpoint() {
  absl::MutexLock c(&checkpoint_mu_);
  std::vector<std::string> entries;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [tp, s] : logs_) {
      if (!s.bound) continue;
      entries.push_back(
          absl::StrCat(tp.topic, " ", tp.partition, " ", s.first_dirty, " ", absl::BytesToHexString(s.topic_id)));
    }
  }
  std::sort(entries.begin(), entries.end());
  std::string text = absl::StrCat(kCheckpointVersion, "\n", entries.size(), "\n");
  for (const std::string& e : entries) absl::StrAppend(&text, e, "\n");
  if (text == last_checkpoint_) return absl::OkStatus();
  EDDY_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(data_dir_, "/", kCleanerCheckpointFile), text));
  last_checkpoint_ = std::move(text);
  return absl::OkStatus();
}

// ---- Choosing a log -----------------------------------------------------------------------------------------

void LogCleaner::Refresh() {
  std::vector<CleanableLog> listed = lister_();
  absl::MutexLock l(&mu_);
  absl::flat_hash_set<TopicPartition> present;
  for (CleanableLog& c : listed) {
    if (!c.log->config().compact_enabled()) continue;
    const TopicPartition& tp = c.log->topic_partition();
    present.insert(tp);
    LogState& s = logs_[tp];
    if (s.bound && s.log.lock() == c.log) continue;
    if (s.in_progress) continue;  // the old log's cleaning is ending; bind at the next refresh
    // A checkpoint entry of the same topic (same id) applies; anything else starts from the log start.
    const bool resume = !s.bound && s.topic_id == c.topic_id;
    const int64_t first_dirty = resume ? std::min(s.first_dirty, c.log->log_end_offset()) : 0;
    s = LogState();
    s.log = c.log;
    s.bound = true;
    s.topic_id = std::move(c.topic_id);
    s.first_dirty = first_dirty;
  }
  for (auto it = logs_.begin(); it != logs_.end();) {
    auto next = std::next(it);
    // Entries of the checkpoint for logs that do not exist (any more) are dropped at the next write.
    if (!present.contains(it->first) && !it->second.in_progress) logs_.erase(it);
    it = next;
  }
}

std::optional<LogCleaner::Candidate> LogCleaner::GrabFilthiestLog(const absl::flat_hash_set<TopicPartition>* skip) {
  Refresh();
  struct Entry {
    std::shared_ptr<PartitionLog> log;
    int64_t first_dirty;
    int64_t delete_horizon;
  };
  std::vector<Entry> entries;
  {
    absl::MutexLock l(&mu_);
    if (stop_) return std::nullopt;
    for (const auto& [tp, s] : logs_) {
      if (s.in_progress || s.uncleanable || (skip != nullptr && skip->contains(tp))) continue;
      if (std::shared_ptr<PartitionLog> log = s.log.lock())
        entries.push_back({std::move(log), s.first_dirty, s.delete_horizon});
    }
  }
  const int64_t now = clock_();
  std::optional<Candidate> best;
  for (Entry& e : entries) {
    std::shared_ptr<const PartitionLog::SegmentList> segs = e.log->segments();
    if (segs->size() < 2) continue;  // nothing sealed
    absl::StatusOr<CleanableRange> range = ComputeCleanableRange(*segs, e.log->config(), e.first_dirty, now);
    if (e.delete_horizon == kUnknownHorizon) {
      absl::StatusOr<int64_t> horizon = EarliestDeleteHorizon(*segs);
      if (horizon.ok()) {
        e.delete_horizon = *horizon;
        absl::MutexLock l(&mu_);
        auto it = logs_.find(e.log->topic_partition());
        if (it != logs_.end() && it->second.log.lock() == e.log) it->second.delete_horizon = *horizon;
      }
    }
    if (!range.ok()) {
      std::fprintf(stderr, "eddy: log cleaner: %s: %s\n", ToString(e.log->topic_partition()).c_str(),
                   range.status().ToString().c_str());
      continue;
    }
    const bool overdue = range->max_compaction_delay_ms > 0 && range->dirty_bytes > 0;
    const bool dirty = range->dirty_ratio > e.log->config().min_cleanable_dirty_ratio;
    const bool tombstones_due = e.delete_horizon != kUnknownHorizon && now >= e.delete_horizon;
    if (!overdue && !dirty && !tombstones_due) continue;
    if (!best || range->dirty_ratio > best->range.dirty_ratio) best = Candidate{e.log, *range, nullptr};
  }
  if (!best) return std::nullopt;
  absl::MutexLock l(&mu_);
  auto it = logs_.find(best->log->topic_partition());
  if (stop_ || it == logs_.end() || it->second.in_progress || it->second.log.lock() != best->log) return std::nullopt;
  it->second.in_progress = true;
  it->second.abort->store(false);
  best->abort = it->second.abort;
  ++in_progress_;
  return best;
}

// ---- Cleaning -------------------------------------------------------------------------------------------------

absl::Status LogCleaner::CleanOne(Cleaner& cleaner, const Candidate& c) {
  const TopicPartition& tp = c.log->topic_partition();
  CleanOptions options;
  options.now_ms = clock_();
  options.abort = c.abort.get();
  options.test_hook = options_.test_hook;
  absl::StatusOr<CleanStats> stats = cleaner.Clean(*c.log, c.range, options);
  absl::Status status = stats.status();
  // What is below the new first dirty offset must be durable before the checkpoint says it was cleaned.
  if (status.ok()) status = c.log->FlushSealedSegments();
  const bool benign = absl::IsAborted(status) || absl::IsNotFound(status) || absl::IsFailedPrecondition(status);
  {
    absl::MutexLock l(&mu_);
    auto it = logs_.find(tp);
    if (it != logs_.end() && it->second.log.lock() == c.log) {
      LogState& s = it->second;
      s.in_progress = false;
      if (status.ok()) {
        s.first_dirty = stats->end_offset;
        s.delete_horizon = stats->delete_horizon;
      } else if (!benign) {
        s.uncleanable = true;
      }
    }
    --in_progress_;
  }
  if (!status.ok()) {
    if (benign) return absl::OkStatus();  // stopped, deleted, closed or changed meanwhile: nothing to report
    std::fprintf(stderr, "eddy: log cleaner: cleaning %s failed, not cleaning it again until restart: %s\n",
                 ToString(tp).c_str(), status.ToString().c_str());
    return status;
  }
  return WriteCheckpoint();
}

absl::StatusOr<int> LogCleaner::RunNow() {
  {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](int* in_progress) { return *in_progress == 0; }, &in_progress_));
  }
  std::unique_ptr<Cleaner> cleaner = NewCleaner();
  absl::flat_hash_set<TopicPartition> tried;
  int cleaned = 0;
  absl::Status status;
  while (std::optional<Candidate> c = GrabFilthiestLog(&tried)) {
    tried.insert(c->log->topic_partition());
    absl::Status s = CleanOne(*cleaner, *c);
    if (s.ok()) ++cleaned;
    status.Update(s);
  }
  if (!status.ok()) return status;
  return cleaned;
}

void LogCleaner::AbortCleaning(const PartitionLog& log) {
  absl::MutexLock l(&mu_);
  auto it = logs_.find(log.topic_partition());
  if (it == logs_.end()) return;
  if (it->second.in_progress) {
    it->second.abort->store(true);
    LogState* s = &it->second;
    mu_.Await(absl::Condition(
        +[](LogState* s) { return !s->in_progress; }, s));
  }
  logs_.erase(log.topic_partition());
}

std::optional<int64_t> LogCleaner::FirstDirtyOffset(const TopicPartition& tp) const {
  absl::MutexLock l(&mu_);
  auto it = logs_.find(tp);
  if (it == logs_.end()) return std::nullopt;
  return it->second.first_dirty;
}

void LogCleaner::RunThread() {
  std::unique_ptr<Cleaner> cleaner = NewCleaner();
  const absl::Duration backoff = absl::Milliseconds(std::max<int64_t>(options_.backoff_ms, 1));
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (stop_) return;
    }
    if (std::optional<Candidate> c = GrabFilthiestLog(nullptr)) {
      (void)CleanOne(*cleaner, *c);  // failures are reported on stderr
      continue;
    }
    absl::MutexLock l(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), backoff);
  }
}

}  // namespace eddy::broker
