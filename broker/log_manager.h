// LogManager: owns a broker's data directory: its topics (metadata and partition logs), crash recovery on
// open, retention, recovery-point checkpoints, and the durability service for acks=all (group commit).
//
// Data directory layout (docs/log-format.md):
//   <data-dir>/.lock                              flock'ed while open; holds the owner's pid
//   <data-dir>/.eddy_cleanshutdown                present only after a clean Close
//   <data-dir>/recovery-point-offset-checkpoint   durable point per partition (log_checkpoint.h)
//   <data-dir>/meta/topics.pb                     topic metadata (broker/proto/metadata.proto)
//   <data-dir>/<topic>-<partition>/               one PartitionLog per partition
//
// Lifecycle: Open (locks the directory, recovers every partition, starts the background threads: flushers,
// the retention/checkpoint thread, the log cleaner's threads) ... Close (stops the cleaner, flushes and
// closes every log, writes the checkpoint and the clean-shutdown marker, releases the lock). The destructor
// calls Close.
//
// Thread-safety: thread-safe. Admin operations (CreateTopic, DeleteTopic, AddPartitions) are serialized
// with each other; GetLog/ListTopics/DescribeTopic only take a short reader lock and are never blocked by
// an admin operation's file I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "broker/file_util.h"
#include "broker/log_cleaner.h"
#include "broker/log_config.h"
#include "broker/log_flusher.h"
#include "broker/partition_log.h"

namespace eddy::broker {

struct LogManagerOptions {
  // The data directory (Kafka's log.dirs, one directory). Created if missing. Required.
  std::string data_dir;
  // Broker-level defaults of the topic configs (Kafka's log.* broker settings).
  LogConfig default_config;
  // log.retention.check.interval.ms: how often retention runs. Kafka's default.
  int64_t retention_check_interval_ms = 300000;
  // log.flush.offset.checkpoint.interval.ms: how often each partition's flushed offset is written to the
  // recovery-point checkpoint. Kafka's default is 60000; Eddy uses 1000 so that after a kill -9 the tail
  // that recovery scans is at most ~1 s of acknowledged (acks=all) traffic, not a minute's. Each write is one
  // small file fsync, skipped when nothing changed. Sealed segments are also synced at this interval (Kafka
  // flushes a segment when it rolls).
  int64_t recovery_point_checkpoint_interval_ms = 1000;
  // Threads that fsync logs for RequestFlush. Different partitions sync in parallel.
  int flush_threads = 2;
  // The log cleaner (compaction of cleanup.policy=compact topics): log.cleaner.* broker settings.
  LogCleanerOptions cleaner;
  // Milliseconds since the epoch, used for retention. Default (empty): the wall clock. Injectable for tests.
  std::function<int64_t()> clock;
};

struct PartitionInfo {
  int32_t partition = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t size_bytes = 0;
};

struct TopicInfo {
  std::string name;
  // 16 random bytes: a topic deleted and created again under the same name is a different topic.
  std::string topic_id;
  int64_t created_ms = 0;
  int32_t partitions = 0;
  // The configs given at creation (overrides only), and the effective config.
  std::map<std::string, std::string> configs;
  LogConfig config;
  std::vector<PartitionInfo> partition_info;
};

class LogManager {
 public:
  // Open locks the data directory (kFailedPrecondition "data directory X is locked by another process
  // (pid N)" if another LogManager, in this or another process, has it), reads the topic metadata and the
  // recovery checkpoint, and opens every partition: after an unclean shutdown each log scans its tail
  // from its recovery point. kDataLoss if meta/topics.pb is corrupt, or missing while partition
  // directories exist.
  static absl::StatusOr<std::unique_ptr<LogManager>> Open(LogManagerOptions options);

  ~LogManager();
  LogManager(const LogManager&) = delete;
  LogManager& operator=(const LogManager&) = delete;

  // CreateTopic creates a topic with `partitions` empty partitions. The metadata is durable on return.
  // Errors: kInvalidArgument for a bad name (ValidateTopicName), partitions < 1, a bad config
  // (LogConfig::FromMap) or a name colliding with an existing one once '.' and '_' are treated alike
  // (Kafka's rule, since metric names confuse them); kAlreadyExists if it exists.
  absl::Status CreateTopic(absl::string_view name, int32_t partitions,
                           const std::map<std::string, std::string>& configs = {});

  // DeleteTopic removes the topic and its data. Logs that readers still hold return kNotFound from then
  // on. kNotFound if there is no such topic.
  absl::Status DeleteTopic(absl::string_view name);

  // AddPartitions raises the partition count to new_total (kInvalidArgument unless it is larger, as
  // Kafka's CreatePartitions; kNotFound for an unknown topic).
  absl::Status AddPartitions(absl::string_view name, int32_t new_total);

  // ListTopics returns every topic, sorted by name.
  std::vector<TopicInfo> ListTopics() const;
  // DescribeTopic: kNotFound "unknown topic X".
  absl::StatusOr<TopicInfo> DescribeTopic(absl::string_view name) const;

  // GetLog returns the partition's log. kNotFound: "unknown topic X" or "topic X has N partitions, no
  // partition P".
  absl::StatusOr<std::shared_ptr<PartitionLog>> GetLog(absl::string_view topic, int32_t partition) const;

  // RequestFlush (acks=all) calls done(OK) once the record at `last_offset` is durable: flushed_offset() >
  // last_offset. Pass AppendResult::last_offset. Waiters of one log share fsyncs. See LogFlusher.
  void RequestFlush(std::shared_ptr<PartitionLog> log, int64_t last_offset,
                    absl::AnyInvocable<void(absl::Status)> done);

  // MaxProducerId: the largest idempotent producer id any partition holds state for (-1 if none), so that
  // InitProducerId never hands out an id the logs remember from before a restart.
  int64_t MaxProducerId() const;

  // RunRetentionNow applies retention to every partition now (with the injected clock); returns the
  // number of segments deleted. The background thread does this every retention_check_interval_ms.
  absl::StatusOr<int> RunRetentionNow();
  // CheckpointRecoveryPoints syncs sealed segments and writes the recovery-point checkpoint now (the
  // background thread does it every recovery_point_checkpoint_interval_ms).
  absl::Status CheckpointRecoveryPoints();
  // RunCleanerNow compacts, on the calling thread, every compacted log that needs it (LogCleaner::RunNow:
  // the usual dirty-ratio, lag and delete-horizon rules, with the injected clock); returns how many logs
  // were cleaned. The cleaner threads do this every log.cleaner.backoff.ms when there is nothing to do.
  absl::StatusOr<int> RunCleanerNow();
  // The cleaner's first dirty offset of a partition (tests, tools); nullopt if the partition is not compacted.
  std::optional<int64_t> CleanerFirstDirtyOffset(const TopicPartition& tp) const;

  // Close stops the background threads, completes pending flush requests, closes every log (indexes
  // written, everything fsynced), writes the checkpoint and the clean-shutdown marker, and releases the
  // directory lock. Logs held elsewhere refuse appends afterwards. Idempotent.
  absl::Status Close();

  const std::string& data_dir() const { return options_.data_dir; }
  const LogConfig& default_config() const { return options_.default_config; }

 private:
  struct Topic {
    std::string name;
    std::string topic_id;
    int64_t created_ms = 0;
    std::map<std::string, std::string> configs;
    LogConfig config;
    std::vector<std::shared_ptr<PartitionLog>> logs;
  };
  using TopicMap = std::map<std::string, std::shared_ptr<const Topic>, std::less<>>;

  explicit LogManager(LogManagerOptions options);

  absl::Status Load();
  absl::Status LockDataDir();
  absl::Status RemoveStrayDirectories(bool have_metadata);
  absl::Status WriteMetadata(const TopicMap& topics);
  std::string PartitionDir(absl::string_view topic, int32_t partition) const;
  absl::StatusOr<std::shared_ptr<PartitionLog>> CreatePartition(const Topic& topic, int32_t partition);
  TopicMap Topics() const;
  std::vector<std::shared_ptr<PartitionLog>> AllLogs() const;
  static TopicInfo Describe(const Topic& topic);
  int64_t NowMs() const;
  void RunBackground();

  const LogManagerOptions options_;
  File lock_file_;
  std::unique_ptr<LogFlusher> flusher_;
  std::unique_ptr<LogCleaner> cleaner_;

  // Serializes admin operations (held across their file I/O).
  absl::Mutex admin_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Guards the topic map (short critical sections only).
  mutable absl::Mutex mu_;
  TopicMap topics_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(admin_mu_) = false;

  // Background thread (retention, checkpoints).
  absl::Mutex bg_mu_;
  bool stop_ ABSL_GUARDED_BY(bg_mu_) = false;
  std::string last_checkpoint_ ABSL_GUARDED_BY(checkpoint_mu_);
  absl::Mutex checkpoint_mu_;
  std::thread background_;
};

}  // namespace eddy::broker
