#include "broker/broker_impl.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/consumer_protocol.h"
#include "broker/embedded_consumer.h"
#include "broker/embedded_producer.h"
#include "broker/group_coordinator.h"
#include "broker/log_manager.h"
#include "broker/offsets_topic_store.h"
#include "broker/partition_log.h"
#include "core/abseil_mode.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

// Blocks until a coordinator callback has run (inline or on another thread).
template <typename T>
T Await(absl::FunctionRef<void(absl::AnyInvocable<void(const T&)>)> start) {
  absl::Mutex mu;
  std::optional<T> value;
  start([&](const T& v) {
    absl::MutexLock lock(&mu);
    value = v;
  });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(+[](std::optional<T>* v) { return v->has_value(); }, &value));
  return std::move(*value);
}

// Broker config names that set topic defaults, and the topic config each one sets.
constexpr std::pair<absl::string_view, absl::string_view> kTopicDefaults[] = {
    {"log.retention.ms", "retention.ms"},
    {"log.retention.bytes", "retention.bytes"},
    {"log.segment.bytes", "segment.bytes"},
    {"log.roll.ms", "segment.ms"},
    {"message.max.bytes", "max.message.bytes"},
    {"log.index.interval.bytes", "index.interval.bytes"},
    {"log.message.timestamp.type", "message.timestamp.type"},
    {"log.cleanup.policy", "cleanup.policy"},
    {"log.cleaner.delete.retention.ms", "delete.retention.ms"},
    {"log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms"},
    {"log.cleaner.max.compaction.lag.ms", "max.compaction.lag.ms"},
    {"log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio"},
};

}  // namespace

absl::StatusOr<std::unique_ptr<BrokerImpl>> BrokerImpl::Open(const BrokerOptions& options) {
  // Debian's Abseil checks every Lock for deadlock cycles; a release build turns that off before the
  // broker's threads start (core/abseil_mode.h).
  internal::UseReleaseMutexMode();
  std::unique_ptr<BrokerImpl> b(new BrokerImpl());
  LogManagerOptions lm;
  lm.data_dir = options.data_dir;
  GroupCoordinatorOptions group_options;
  std::map<std::string, std::string> topic_defaults;
  for (const auto& [key, value] : options.configs) {
    bool known = false;
    for (const auto& [broker_name, topic_name] : kTopicDefaults) {
      if (key == broker_name) {
        topic_defaults[std::string(topic_name)] = value;
        known = true;
      }
    }
    if (known) continue;
    int64_t v = 0;
    const bool numeric = absl::SimpleAtoi(value, &v);
    if (key == "num.partitions" && numeric && v >= 1 && v <= INT32_MAX) {
      b->num_partitions_ = static_cast<int32_t>(v);
    } else if (key == "log.retention.check.interval.ms" && numeric && v > 0) {
      lm.retention_check_interval_ms = v;
    } else if (key == "log.flush.offset.checkpoint.interval.ms" && numeric && v > 0) {
      lm.recovery_point_checkpoint_interval_ms = v;
    } else if (key == "log.cleaner.enable" && (value == "true" || value == "false")) {
      lm.cleaner.enable = value == "true";
    } else if (key == "log.cleaner.threads" && numeric && v >= 1 && v <= 64) {
      lm.cleaner.threads = static_cast<int>(v);
    } else if (key == "log.cleaner.backoff.ms" && numeric && v > 0) {
      lm.cleaner.backoff_ms = v;
    } else if (key == "log.cleaner.dedupe.buffer.size" && numeric && v > 0) {
      lm.cleaner.dedupe_buffer_bytes = v;
    } else if (key == "log.cleaner.io.buffer.size" && numeric && v > 0) {
      lm.cleaner.io_buffer_bytes = v;
    } else if (key == "group.initial.rebalance.delay.ms" && numeric && v >= 0 && v <= INT32_MAX) {
      group_options.initial_rebalance_delay_ms = static_cast<int32_t>(v);
    } else if (key == "group.min.session.timeout.ms" && numeric && v > 0 && v <= INT32_MAX) {
      group_options.min_session_timeout_ms = static_cast<int32_t>(v);
    } else if (key == "group.max.session.timeout.ms" && numeric && v > 0 && v <= INT32_MAX) {
      group_options.max_session_timeout_ms = static_cast<int32_t>(v);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("invalid broker config ", key, "=", value));
    }
  }
  EDDY_ASSIGN_OR_RETURN(lm.default_config, LogConfig::FromMap(LogConfig(), topic_defaults));
  EDDY_ASSIGN_OR_RETURN(b->logs_, LogManager::Open(std::move(lm)));

  // The internal offsets topic: one partition, compacted, never deleted by time (Kafka's settings).
  if (!b->logs_->DescribeTopic(kOffsetsTopic).ok()) {
    // 100 MiB segments (Kafka's offsets.topic.segment.bytes), so that sealed segments get compacted.
    EDDY_RETURN_IF_ERROR(b->logs_->CreateTopic(kOffsetsTopic, 1,
                                               {{"cleanup.policy", "compact"}, {"segment.bytes", "104857600"}}));
  }
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PartitionLog> offsets_log, b->logs_->GetLog(kOffsetsTopic, 0));
  b->offsets_store_ = std::make_unique<OffsetsTopicStore>(b->logs_.get(), std::move(offsets_log), &b->notifier_);
  b->coordinator_ = std::make_unique<GroupCoordinator>(b->offsets_store_.get(), std::move(group_options));
  EDDY_RETURN_IF_ERROR(b->coordinator_->Load());
  return b;
}

BrokerImpl::~BrokerImpl() { (void)Close(); }

absl::Status BrokerImpl::Close() {
  if (closed_.exchange(true)) return absl::OkStatus();
  if (coordinator_ != nullptr) coordinator_->Shutdown();
  absl::Status s;
  if (logs_ != nullptr) s = logs_->Close();
  return s;
}

std::unique_ptr<Producer> BrokerImpl::NewProducer(const ProducerConfig& config) {
  return std::make_unique<EmbeddedProducer>(this, config);
}

absl::StatusOr<std::unique_ptr<Consumer>> BrokerImpl::NewConsumer(const ConsumerConfig& config) {
  if (config.max_poll_records < 1) return absl::InvalidArgumentError("max.poll.records must be at least 1");
  return std::unique_ptr<Consumer>(std::make_unique<EmbeddedConsumer>(this, config));
}

absl::StatusOr<int32_t> BrokerImpl::PartitionCount(absl::string_view topic) {
  EDDY_ASSIGN_OR_RETURN(TopicInfo info, logs_->DescribeTopic(topic));
  return info.partitions;
}

absl::StatusOr<BrokerImpl::TopicMeta> BrokerImpl::TopicMetadata(absl::string_view topic) {
  EDDY_ASSIGN_OR_RETURN(TopicInfo info, logs_->DescribeTopic(topic));
  return TopicMeta{info.partitions, info.config.max_message_bytes};
}

absl::StatusOr<std::shared_ptr<PartitionLog>> BrokerImpl::GetLog(absl::string_view topic, int32_t partition) {
  return logs_->GetLog(topic, partition);
}

absl::Status BrokerImpl::CreateTopic(const NewTopic& topic) {
  if (topic.name == kOffsetsTopic) {
    return absl::InvalidArgumentError(absl::StrCat("topic name ", topic.name, " is reserved for internal use"));
  }
  const int32_t partitions = topic.partitions == -1 ? num_partitions_ : topic.partitions;
  EDDY_RETURN_IF_ERROR(logs_->CreateTopic(topic.name, partitions, topic.configs));
  BumpMetadata();
  return absl::OkStatus();
}

absl::Status BrokerImpl::DeleteTopic(absl::string_view name) {
  if (name == kOffsetsTopic) return absl::InvalidArgumentError("the internal topic __consumer_offsets cannot be deleted");
  EDDY_RETURN_IF_ERROR(logs_->DeleteTopic(name));
  BumpMetadata();
  return absl::OkStatus();
}

absl::Status BrokerImpl::CreatePartitions(absl::string_view name, int32_t total) {
  EDDY_RETURN_IF_ERROR(logs_->AddPartitions(name, total));
  BumpMetadata();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> BrokerImpl::ListTopics(bool include_internal) {
  std::vector<std::string> names;
  for (const TopicInfo& t : logs_->ListTopics()) {
    if (!include_internal && t.name == kOffsetsTopic) continue;
    names.push_back(t.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<TopicDescription> BrokerImpl::DescribeTopic(absl::string_view name) {
  EDDY_ASSIGN_OR_RETURN(TopicInfo info, logs_->DescribeTopic(name));
  TopicDescription d;
  d.name = info.name;
  d.internal = info.name == kOffsetsTopic;
  d.configs = info.configs;
  for (int32_t p = 0; p < info.partitions; ++p) {
    EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PartitionLog> log, logs_->GetLog(name, p));
    d.partitions.push_back(PartitionDescription{p, log->log_start_offset(), log->log_end_offset()});
  }
  return d;
}

absl::StatusOr<::eddy::OffsetAndTimestamp> BrokerImpl::ListOffsets(const TopicPartition& tp, int64_t timestamp) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PartitionLog> log, logs_->GetLog(tp.topic, tp.partition));
  EDDY_ASSIGN_OR_RETURN(auto found, log->OffsetForTimestamp(timestamp));
  return ::eddy::OffsetAndTimestamp{found.offset, found.timestamp};
}

absl::StatusOr<std::vector<std::string>> BrokerImpl::ListGroups() {
  ListGroupsResponse resp = Await<ListGroupsResponse>(
      [&](absl::AnyInvocable<void(const ListGroupsResponse&)> done) { coordinator_->ListGroups({}, std::move(done)); });
  if (resp.error != ErrorCode::kNone) return ToStatus(resp.error, "listing groups");
  std::vector<std::string> out;
  for (const ListedGroup& g : resp.groups) out.push_back(g.group_id);
  return out;
}

absl::StatusOr<GroupDescription> BrokerImpl::DescribeGroup(absl::string_view group_id) {
  DescribedGroup g = Await<DescribedGroup>([&](absl::AnyInvocable<void(const DescribedGroup&)> done) {
    coordinator_->DescribeGroup(group_id, std::move(done));
  });
  if (g.error != ErrorCode::kNone) return ToStatus(g.error, absl::StrCat("describing group ", group_id));
  OffsetFetchRequest fetch;
  fetch.group_id = std::string(group_id);
  OffsetFetchResponse offsets = Await<OffsetFetchResponse>(
      [&](absl::AnyInvocable<void(const OffsetFetchResponse&)> done) { coordinator_->OffsetFetch(fetch, std::move(done)); });
  if (g.state == "Dead" && offsets.partitions.empty()) {
    return absl::NotFoundError(absl::StrCat("unknown group ", group_id));
  }
  GroupDescription d;
  d.group_id = g.group_id;
  d.state = g.state;
  d.protocol_type = g.protocol_type;
  d.protocol = g.protocol_data;
  std::map<TopicPartition, GroupPartitionOffset> rows;
  for (const DescribedGroupMember& m : g.members) {
    GroupMemberDescription md{m.member_id, m.client_id, m.client_host, {}};
    if (g.protocol_type == "consumer" && !m.assignment.empty()) {
      absl::StatusOr<ConsumerAssignment> a = DecodeAssignment(m.assignment);
      if (a.ok()) md.assignment = a->partitions;
    }
    for (const TopicPartition& tp : md.assignment) {
      rows[tp].tp = tp;
      rows[tp].member_id = m.member_id;
    }
    d.members.push_back(std::move(md));
  }
  for (const OffsetFetchPartitionResponse& p : offsets.partitions) {
    if (p.committed_offset < 0) continue;
    TopicPartition tp{p.topic, p.partition};
    rows[tp].tp = tp;
    rows[tp].committed_offset = p.committed_offset;
  }
  for (auto& [tp, row] : rows) {
    absl::StatusOr<std::shared_ptr<PartitionLog>> log = logs_->GetLog(tp.topic, tp.partition);
    if (log.ok()) {
      row.log_end_offset = (*log)->log_end_offset();
      if (row.committed_offset >= 0) row.lag = std::max<int64_t>(0, row.log_end_offset - row.committed_offset);
    }
    d.offsets.push_back(row);
  }
  return d;
}

}  // namespace eddy::broker

namespace eddy {

absl::StatusOr<std::unique_ptr<Broker>> Broker::Open(const BrokerOptions& options) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<broker::BrokerImpl> b, broker::BrokerImpl::Open(options));
  return std::unique_ptr<Broker>(std::move(b));
}

}  // namespace eddy
