// LogManager. See log_manager.h.
#include "broker/log_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "broker/log_checkpoint.h"
#include "eddy/core/status.h"
#include "proto/metadata.pb.h"  // generated into <build>/broker/proto/proto/

namespace eddy::broker {
namespace {

constexpr absl::string_view kLockFile = ".lock";
constexpr absl::string_view kCleanShutdownFile = ".eddy_cleanshutdown";
constexpr absl::string_view kMetadataFile = "meta/topics.pb";
constexpr absl::string_view kDeleteSuffix = "-delete";

absl::Status UnknownTopic(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("unknown topic ", name));
}

std::string NewTopicId() {
  std::random_device rd;
  std::string id(16, '\0');
  for (size_t i = 0; i < id.size(); i += 4) {
    uint32_t r = rd();
    for (size_t j = 0; j < 4; ++j) id[i + j] = static_cast<char>(r >> (8 * j));
  }
  return id;
}

// Splits "<topic>-<partition>" (a partition directory name). False if it is not one.
bool ParsePartitionDir(absl::string_view name, std::string* topic, int32_t* partition) {
  const size_t dash = name.rfind('-');
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 == name.size()) return false;
  absl::string_view num = name.substr(dash + 1);
  if (!std::all_of(num.begin(), num.end(), [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
      !absl::SimpleAtoi(num, partition) || !ValidateTopicName(name.substr(0, dash)).ok()) {
    return false;
  }
  *topic = std::string(name.substr(0, dash));
  return true;
}

}  // namespace

LogManager::LogManager(LogManagerOptions options) : options_(std::move(options)) {}

LogManager::~LogManager() {
  absl::Status s = Close();
  if (!s.ok()) std::fprintf(stderr, "eddy: closing %s: %s\n", options_.data_dir.c_str(), s.ToString().c_str());
}

int64_t LogManager::NowMs() const { return options_.clock ? options_.clock() : absl::ToUnixMillis(absl::Now()); }

std::string LogManager::PartitionDir(absl::string_view topic, int32_t partition) const {
  return absl::StrCat(options_.data_dir, "/", topic, "-", partition);
}

absl::StatusOr<std::unique_ptr<LogManager>> LogManager::Open(LogManagerOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("LogManagerOptions.data_dir is empty");
  while (options.data_dir.size() > 1 && options.data_dir.back() == '/') options.data_dir.pop_back();
  std::unique_ptr<LogManager> m(new LogManager(std::move(options)));
  absl::Status s = m->Load();
  if (!s.ok()) {
    // Not opened: the destructor must not checkpoint or mark a clean shutdown. Just release the lock.
    absl::MutexLock admin(&m->admin_mu_);
    m->closed_ = true;
    return s;
  }
  LogManager* raw = m.get();
  m->cleaner_ = LogCleaner::Create(
      m->options_.data_dir, m->options_.cleaner,
      [raw] {
        std::vector<CleanableLog> logs;
        for (const auto& [name, t] : raw->Topics()) {
          if (!t->config.compact_enabled()) continue;
          for (const auto& log : t->logs) logs.push_back(CleanableLog{log, t->topic_id});
        }
        return logs;
      },
      [raw] { return raw->NowMs(); });
  m->cleaner_->Start();
  m->flusher_ = std::make_unique<LogFlusher>(m->options_.flush_threads);
  m->background_ = std::thread([raw = m.get()] { raw->RunBackground(); });
  return m;
}

absl::Status LogManager::LockDataDir() {
  const std::string path = absl::StrCat(options_.data_dir, "/", kLockFile);
  EDDY_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDWR | O_CREAT));
  if (::flock(f.fd(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return PosixError("flock", path, errno);
    char buf[32] = {};
    absl::StatusOr<size_t> n = f.Pread(buf, sizeof(buf) - 1, 0);
    int64_t pid = -1;
    if (n.ok()) (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, *n)), &pid);
    return absl::FailedPreconditionError(absl::StrCat("data directory ", options_.data_dir,
                                                      " is locked by another process (pid ", pid,
                                                      pid == ::getpid() ? ", this process" : "", ")"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  EDDY_RETURN_IF_ERROR(f.Truncate(0));
  EDDY_RETURN_IF_ERROR(f.PwriteFull(pid.data(), pid.size(), 0));
  lock_file_ = std::move(f);
  return absl::OkStatus();
}

absl::Status LogManager::Load() {
  const std::string& dir = options_.data_dir;
  EDDY_RETURN_IF_ERROR(CreateDirs(absl::StrCat(dir, "/meta")));
  EDDY_RETURN_IF_ERROR(LockDataDir());

  const std::string clean_path = absl::StrCat(dir, "/", kCleanShutdownFile);
  const bool clean = PathExists(clean_path);
  proto::Topics meta;
  absl::StatusOr<std::string> meta_bytes = ReadFileToString(absl::StrCat(dir, "/", kMetadataFile));
  const bool have_metadata = meta_bytes.ok();
  if (!have_metadata && !absl::IsNotFound(meta_bytes.status())) return meta_bytes.status();
  if (have_metadata && !meta.ParseFromString(*meta_bytes)) {
    return absl::DataLossError(absl::StrCat(dir, "/", kMetadataFile, " is corrupt"));
  }
  RecoveryCheckpoint checkpoint;
  absl::StatusOr<RecoveryCheckpoint> read = ReadRecoveryCheckpoint(absl::StrCat(dir, "/", kRecoveryCheckpointFile));
  if (read.ok()) {
    checkpoint = *std::move(read);
  } else if (!absl::IsNotFound(read.status())) {
    // Not fatal: recovery then scans whole logs.
    std::fprintf(stderr, "eddy: ignoring the recovery checkpoint: %s\n", read.status().ToString().c_str());
  }

  TopicMap topics;
  for (const proto::TopicMetadata& tm : meta.topics()) {
    auto t = std::make_shared<Topic>();
    t->name = tm.name();
    t->topic_id = tm.topic_id();
    t->created_ms = tm.created_ms();
    t->configs = std::map<std::string, std::string>(tm.configs().begin(), tm.configs().end());
    absl::StatusOr<LogConfig> config = LogConfig::FromMap(options_.default_config, t->configs);
    if (!config.ok()) {
      return absl::DataLossError(absl::StrCat("topic ", t->name, " in ", kMetadataFile, ": ", config.status().message()));
    }
    t->config = *config;
    for (int32_t p = 0; p < tm.partitions(); ++p) {
      TopicPartition tp{t->name, p};
      RecoveryInfo info;
      info.clean_shutdown = clean;
      auto it = checkpoint.find(tp);
      if (it != checkpoint.end()) info.recovery_point = it->second;
      EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PartitionLog> log,
                            PartitionLog::Open(PartitionDir(t->name, p), tp, t->config, info));
      t->logs.push_back(std::move(log));
    }
    topics[t->name] = std::move(t);
  }
  {
    absl::MutexLock l(&mu_);
    topics_ = std::move(topics);
  }
  EDDY_RETURN_IF_ERROR(RemoveStrayDirectories(have_metadata));
  if (!have_metadata) EDDY_RETURN_IF_ERROR(WriteMetadata({}));
  // From now on a crash must be treated as unclean.
  if (clean) {
    EDDY_RETURN_IF_ERROR(RemoveFile(clean_path));
    EDDY_RETURN_IF_ERROR(SyncDir(dir));
  }
  return absl::OkStatus();
}

absl::Status LogManager::RemoveStrayDirectories(bool have_metadata) {
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(options_.data_dir));
  const TopicMap topics = Topics();
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(options_.data_dir, "/", name);
    if (absl::EndsWith(name, kDeleteSuffix)) {
      EDDY_RETURN_IF_ERROR(RemoveAll(path));  // a deletion that a crash interrupted
      continue;
    }
    std::string topic;
    int32_t partition;
    if (!ParsePartitionDir(name, &topic, &partition)) continue;
    auto it = topics.find(topic);
    if (it != topics.end() && partition < static_cast<int32_t>(it->second->logs.size())) continue;
    if (!have_metadata) {
      return absl::DataLossError(absl::StrCat(options_.data_dir, "/", kMetadataFile, " is missing but partition directory ",
                                              name, " exists: refusing to guess the topics"));
    }
    // The metadata no longer has it: the topic was deleted and a crash interrupted the removal.
    std::fprintf(stderr, "eddy: removing %s: not a partition of any topic\n", path.c_str());
    EDDY_RETURN_IF_ERROR(RemoveAll(path));
  }
  return absl::OkStatus();
}

absl::Status LogManager::WriteMetadata(const TopicMap& topics) {
  proto::Topics meta;
  for (const auto& [name, t] : topics) {
    proto::TopicMetadata* tm = meta.add_topics();
    tm->set_name(name);
    tm->set_partitions(static_cast<int32_t>(t->logs.size()));
    tm->mutable_configs()->insert(t->configs.begin(), t->configs.end());
    tm->set_created_ms(t->created_ms);
    tm->set_topic_id(t->topic_id);
  }
  std::string bytes;
  if (!meta.SerializeToString(&bytes)) return absl::InternalError("cannot serialize the topic metadata");
  return WriteFileAtomically(absl::StrCat(options_.data_dir, "/", kMetadataFile), bytes);
}

LogManager::TopicMap LogManager::Topics() const {
  absl::ReaderMutexLock l(&mu_);
  return topics_;
}

int64_t LogManager::MaxProducerId() const {
  int64_t max_id = -1;
  for (const auto& log : AllLogs()) max_id = std::max(max_id, log->max_producer_id());
  return max_id;
}

std::vector<std::shared_ptr<PartitionLog>> LogManager::AllLogs() const {
  std::vector<std::shared_ptr<PartitionLog>> logs;
  absl::ReaderMutexLock l(&mu_);
  for (const auto& [name, t] : topics_) logs.insert(logs.end(), t->logs.begin(), t->logs.end());
  return logs;
}

absl::StatusOr<std::shared_ptr<PartitionLog>> LogManager::CreatePartition(const Topic& topic, int32_t partition) {
  const std::string dir = PartitionDir(topic.name, partition);
  EDDY_RETURN_IF_ERROR(RemoveAll(dir));  // a new partition starts empty, whatever a failed removal left
  RecoveryInfo info;
  info.clean_shutdown = true;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PartitionLog> log,
                        PartitionLog::Open(dir, TopicPartition{topic.name, partition}, topic.config, info));
  return std::shared_ptr<PartitionLog>(std::move(log));
}

// ---- Admin ------------------------------------------------------------------------------------------------

absl::Status LogManager::CreateTopic(absl::string_view name, int32_t partitions,
                                     const std::map<std::string, std::string>& configs) {
  EDDY_RETURN_IF_ERROR(ValidateTopicName(name));
  if (partitions < 1) {
    return absl::InvalidArgumentError(absl::StrCat("Number of partitions must be larger than 0, got ", partitions));
  }
  EDDY_ASSIGN_OR_RETURN(LogConfig config, LogConfig::FromMap(options_.default_config, configs));
  absl::MutexLock admin(&admin_mu_);
  if (closed_) return absl::FailedPreconditionError("the log manager is closed");
  TopicMap topics = Topics();
  if (topics.count(name) > 0) return absl::AlreadyExistsError(absl::StrCat("Topic '", name, "' already exists."));
  const std::string collision_key = absl::StrReplaceAll(name, {{".", "_"}});
  for (const auto& [existing, t] : topics) {
    if (absl::StrReplaceAll(existing, {{".", "_"}}) == collision_key) {
      return absl::InvalidArgumentError(absl::StrCat("Topic '", name, "' collides with existing topic: ", existing));
    }
  }
  auto topic = std::make_shared<Topic>();
  topic->name = std::string(name);
  topic->topic_id = NewTopicId();
  topic->created_ms = NowMs();
  topic->configs = configs;
  topic->config = config;
  for (int32_t p = 0; p < partitions; ++p) {
    EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PartitionLog> log, CreatePartition(*topic, p));
    topic->logs.push_back(std::move(log));
  }
  EDDY_RETURN_IF_ERROR(SyncDir(options_.data_dir));  // the partition directories
  topics[topic->name] = topic;
  // The metadata is written last: a crash before this leaves stray directories that Open removes.
  EDDY_RETURN_IF_ERROR(WriteMetadata(topics));
  absl::MutexLock l(&mu_);
  topics_ = std::move(topics);
  return absl::OkStatus();
}

absl::Status LogManager::DeleteTopic(absl::string_view name) {
  absl::MutexLock admin(&admin_mu_);
  if (closed_) return absl::FailedPreconditionError("the log manager is closed");
  TopicMap topics = Topics();
  auto it = topics.find(name);
  if (it == topics.end()) return UnknownTopic(name);
  std::shared_ptr<const Topic> topic = it->second;
  topics.erase(it);
  // Metadata first: once it is durable the topic is gone, even if removing its files is interrupted.
  EDDY_RETURN_IF_ERROR(WriteMetadata(topics));
  {
    absl::MutexLock l(&mu_);
    topics_ = topics;
  }
  absl::Status status;
  const std::string suffix = absl::StrCat(".", absl::BytesToHexString(topic->topic_id), kDeleteSuffix);
  for (size_t p = 0; p < topic->logs.size(); ++p) {
    topic->logs[p]->MarkDeleted();
    cleaner_->AbortCleaning(*topic->logs[p]);  // before its directory goes
    const std::string dir = PartitionDir(topic->name, static_cast<int32_t>(p));
    const std::string doomed = dir + suffix;
    if (::rename(dir.c_str(), doomed.c_str()) != 0) {
      status.Update(RemoveAll(dir));
    } else {
      status.Update(RemoveAll(doomed));
    }
  }
  status.Update(SyncDir(options_.data_dir));
  return status;
}

absl::Status LogManager::AddPartitions(absl::string_view name, int32_t new_total) {
  absl::MutexLock admin(&admin_mu_);
  if (closed_) return absl::FailedPreconditionError("the log manager is closed");
  TopicMap topics = Topics();
  auto it = topics.find(name);
  if (it == topics.end()) return UnknownTopic(name);
  const int32_t current = static_cast<int32_t>(it->second->logs.size());
  if (new_total == current) {
    return absl::InvalidArgumentError(absl::StrCat("Topic already has ", current, " partitions."));
  }
  if (new_total < current) {
    return absl::InvalidArgumentError(absl::StrCat("Topic currently has ", current,
                                                   " partitions, which is higher than the requested ", new_total, "."));
  }
  auto topic = std::make_shared<Topic>(*it->second);
  for (int32_t p = current; p < new_total; ++p) {
    EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PartitionLog> log, CreatePartition(*topic, p));
    topic->logs.push_back(std::move(log));
  }
  EDDY_RETURN_IF_ERROR(SyncDir(options_.data_dir));
  it->second = topic;
  EDDY_RETURN_IF_ERROR(WriteMetadata(topics));
  absl::MutexLock l(&mu_);
  topics_ = std::move(topics);
  return absl::OkStatus();
}

// ---- Queries ----------------------------------------------------------------------------------------------

TopicInfo LogManager::Describe(const Topic& t) {
  TopicInfo info;
  info.name = t.name;
  info.topic_id = t.topic_id;
  info.created_ms = t.created_ms;
  info.partitions = static_cast<int32_t>(t.logs.size());
  info.configs = t.configs;
  info.config = t.config;
  for (size_t p = 0; p < t.logs.size(); ++p) {
    const PartitionLog& log = *t.logs[p];
    info.partition_info.push_back(
        PartitionInfo{static_cast<int32_t>(p), log.log_start_offset(), log.log_end_offset(), log.size_bytes()});
  }
  return info;
}

std::vector<TopicInfo> LogManager::ListTopics() const {
  std::vector<TopicInfo> out;
  for (const auto& [name, t] : Topics()) out.push_back(Describe(*t));
  return out;
}

absl::StatusOr<TopicInfo> LogManager::DescribeTopic(absl::string_view name) const {
  std::shared_ptr<const Topic> t;
  {
    absl::ReaderMutexLock l(&mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return UnknownTopic(name);
    t = it->second;
  }
  return Describe(*t);
}

absl::StatusOr<std::shared_ptr<PartitionLog>> LogManager::GetLog(absl::string_view topic, int32_t partition) const {
  absl::ReaderMutexLock l(&mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return UnknownTopic(topic);
  const auto& logs = it->second->logs;
  if (partition < 0 || partition >= static_cast<int32_t>(logs.size())) {
    return absl::NotFoundError(absl::StrCat("topic ", topic, " has ", logs.size(), " partitions, no partition ", partition));
  }
  return logs[static_cast<size_t>(partition)];
}

// ---- Durability, retention, checkpoints -------------------------------------------------------------------

void LogManager::RequestFlush(std::shared_ptr<PartitionLog> log, int64_t last_offset,
                              absl::AnyInvocable<void(absl::Status)> done) {
  flusher_->RequestFlush(std::move(log), last_offset, std::move(done));
}

absl::StatusOr<int> LogManager::RunRetentionNow() {
  const int64_t now = NowMs();
  int deleted = 0;
  absl::Status status;
  for (const auto& log : AllLogs()) {
    absl::StatusOr<int> n = log->DeleteOldSegments(now);
    if (n.ok()) {
      deleted += *n;
    } else {
      status.Update(n.status());
    }
  }
  if (!status.ok()) return status;
  return deleted;
}

absl::Status LogManager::CheckpointRecoveryPoints() {
  absl::MutexLock l(&checkpoint_mu_);
  RecoveryCheckpoint checkpoint;
  absl::Status status;
  for (const auto& log : AllLogs()) {
    // Kafka flushes a segment when it rolls; here that happens at the next checkpoint.
    absl::Status s = log->FlushSealedSegments();
    if (!s.ok() && !absl::IsNotFound(s)) status.Update(s);
    checkpoint[log->topic_partition()] = log->recovery_point();
  }
  std::string text = EncodeRecoveryCheckpoint(checkpoint);
  if (text != last_checkpoint_) {
    status.Update(WriteFileAtomically(absl::StrCat(options_.data_dir, "/", kRecoveryCheckpointFile), text));
    if (status.ok()) last_checkpoint_ = std::move(text);
  }
  return status;
}

absl::StatusOr<int> LogManager::RunCleanerNow() { return cleaner_->RunNow(); }

std::optional<int64_t> LogManager::CleanerFirstDirtyOffset(const TopicPartition& tp) const {
  return cleaner_->FirstDirtyOffset(tp);
}

void LogManager::RunBackground() {
  const absl::Duration checkpoint_every = absl::Milliseconds(std::max<int64_t>(options_.recovery_point_checkpoint_interval_ms, 1));
  const absl::Duration retention_every = absl::Milliseconds(std::max<int64_t>(options_.retention_check_interval_ms, 1));
  absl::Time next_checkpoint = absl::Now() + checkpoint_every;
  absl::Time next_retention = absl::Now() + retention_every;
  for (;;) {
    {
      absl::MutexLock l(&bg_mu_);
      const absl::Time wake = std::min(next_checkpoint, next_retention);
      bg_mu_.AwaitWithDeadline(absl::Condition(&stop_), wake);
      if (stop_) return;
    }
    const absl::Time now = absl::Now();
    if (now >= next_checkpoint) {
      absl::Status s = CheckpointRecoveryPoints();
      if (!s.ok()) std::fprintf(stderr, "eddy: recovery-point checkpoint: %s\n", s.ToString().c_str());
      next_checkpoint = now + checkpoint_every;
    }
    if (now >= next_retention) {
      absl::StatusOr<int> n = RunRetentionNow();
      if (!n.ok()) std::fprintf(stderr, "eddy: retention: %s\n", n.status().ToString().c_str());
      next_retention = now + retention_every;
    }
  }
}

absl::Status LogManager::Close() {
  absl::MutexLock admin(&admin_mu_);
  if (closed_) return absl::OkStatus();
  closed_ = true;
  if (background_.joinable()) {
    {
      absl::MutexLock l(&bg_mu_);
      stop_ = true;
    }
    background_.join();
  }
  if (cleaner_ != nullptr) cleaner_->Stop();  // aborts a cleaning in progress; its files are removed
  if (flusher_ != nullptr) flusher_->Stop();
  absl::Status status;
  for (const auto& log : AllLogs()) status.Update(log->Close());
  status.Update(CheckpointRecoveryPoints());
  if (status.ok() && lock_file_.is_open()) {
    const std::string marker = absl::StrCat(options_.data_dir, "/", kCleanShutdownFile);
    status.Update(WriteFileAtomically(marker, ""));
  }
  status.Update(lock_file_.Close());  // releases the flock
  return status;
}

}  // namespace eddy::broker
