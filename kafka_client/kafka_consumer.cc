#include "kafka_client/kafka_consumer.h"

#include <string.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eddy/core/record_batch_format.h"
#include "eddy/core/status.h"

namespace eddy::kafka_client {
namespace {

PartitionListPtr ToList(const std::vector<TopicPartition>& tps, int64_t offset) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const TopicPartition& tp : tps) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  }
  return list;
}

std::vector<TopicPartition> FromList(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

// The first per-partition error in a commit result.
rd_kafka_resp_err_t FirstError(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || offsets == nullptr) return err;
  for (int i = 0; i < offsets->cnt; ++i) {
    if (offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) return offsets->elems[i].err;
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

struct CommitResult {
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void OnSyncCommit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* result = static_cast<CommitResult*>(opaque);
  result->done = true;
  result->err = FirstError(err, offsets);
}

void OnAsyncCommit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  std::unique_ptr<CommitCallback> callback(static_cast<CommitCallback*>(opaque));
  err = FirstError(err, offsets);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (*callback) (*callback)(ErrorToStatus(err, "commit"));
}

}  // namespace

KafkaConfigs MapConsumerConfig(const ConsumerConfig& c) {
  KafkaConfigs m = {
      {"client.id", c.client_id},
      {"auto.offset.reset", c.auto_offset_reset == OffsetReset::kEarliest ? "earliest"
                            : c.auto_offset_reset == OffsetReset::kLatest ? "latest"
                                                                          : "error"},
      {"enable.auto.commit", c.enable_auto_commit ? "true" : "false"},
      {"auto.commit.interval.ms", absl::StrCat(c.auto_commit_interval_ms)},
      {"enable.auto.offset.store", "false"},
      {"fetch.max.bytes", absl::StrCat(c.fetch_max_bytes)},
      {"max.partition.fetch.bytes", absl::StrCat(c.max_partition_fetch_bytes)},
      {"session.timeout.ms", absl::StrCat(c.session_timeout_ms)},
      {"heartbeat.interval.ms", absl::StrCat(c.heartbeat_interval_ms)},
      {"max.poll.interval.ms", absl::StrCat(c.max_poll_interval_ms)},
      {"partition.assignment.strategy", absl::StrJoin(c.partition_assignment_strategy, ",")},
      {"check.crcs", c.check_crcs ? "true" : "false"},
      {"isolation.level", "read_uncommitted"},
  };
  if (c.group_id.empty()) {
    // librdkafka's consumer needs a group.id even to Assign. A private one that never joins or commits
    // (commits are refused without a group) leaves no trace on the broker.
    static std::atomic<int64_t> next{0};
    m["group.id"] = absl::StrCat("eddy-assign-", getpid(), "-", next.fetch_add(1));
    m["enable.auto.commit"] = "false";
  } else {
    m["group.id"] = c.group_id;
  }
  return m;
}

absl::Status MessageBatchEncoder::Encode(rd_kafka_message_t* const* messages, size_t count, ConsumerRecords* out) {
  if (count == 0) return absl::OkStatus();
  std::string* buf = out->NewBuffer();
  runs_.clear();
  size_t i = 0;
  while (i < count) {
    const rd_kafka_message_t* first = messages[i];
    builder_.Reset();
    int64_t expected = first->offset;
    for (; i < count; ++i, ++expected) {
      const rd_kafka_message_t* m = messages[i];
      if (m->rkt != first->rkt || m->partition != first->partition || m->offset != expected) break;
      headers_.clear();
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t h = 0; rd_kafka_header_get_all(hdrs, h, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++h) {
          HeaderRef ref{.key = name};
          if (value != nullptr) ref.value = absl::string_view(static_cast<const char*>(value), size);
          headers_.push_back(ref);
        }
      }
      std::optional<absl::string_view> key, value;
      if (m->key != nullptr) key = absl::string_view(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) value = absl::string_view(static_cast<const char*>(m->payload), m->len);
      builder_.Append(rd_kafka_message_timestamp(m, nullptr), key, value, headers_);
    }
    EDDY_ASSIGN_OR_RETURN(absl::Span<char> batch, builder_.Finish());
    const size_t begin = buf->size();
    buf->append(batch.data(), batch.size());
    SetBaseOffset(buf->data() + begin, first->offset);
    runs_.push_back({first, begin, buf->size()});
  }
  // Register only once the buffer has stopped growing: the batches are views into it.
  for (const Run& run : runs_) {
    TopicPartition tp{rd_kafka_topic_name(run.first->rkt), run.first->partition};
    EDDY_RETURN_IF_ERROR(out->AddBatches(tp, absl::string_view(buf->data() + run.begin, run.end - run.begin),
                                         run.first->offset, /*verify_crc=*/false)
                             .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Consumer>> KafkaConsumer::Create(const ConsumerConfig& config,
                                                                const KafkaConfigs& kafka) {
  EDDY_ASSIGN_OR_RETURN(ConfPtr conf, NewConf(MapConsumerConfig(config), kafka));
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer(config));
  rd_kafka_conf_set_opaque(conf.get(), c.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaConsumer::OnRebalance);
  EDDY_ASSIGN_OR_RETURN(c->rk_, NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_poll_set_consumer(c->rk_.get());
  c->queue_.reset(rd_kafka_queue_get_consumer(c->rk_.get()));
  c->messages_.resize(static_cast<size_t>(std::max(1, config.max_poll_records)));
  return std::unique_ptr<Consumer>(std::move(c));
}

KafkaConsumer::~KafkaConsumer() { Close().IgnoreError(); }

absl::Status KafkaConsumer::CheckOpen() const {
  if (closed_) return absl::FailedPreconditionError("the consumer is closed");
  return absl::OkStatus();
}

void KafkaConsumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  std::vector<TopicPartition> tps = FromList(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (const TopicPartition& tp : tps) self->positions_[tp] = RD_KAFKA_OFFSET_INVALID;
    rd_kafka_assign(rk, partitions);
    if (self->listener_ != nullptr) self->listener_->OnPartitionsAssigned(tps);
  } else {
    if (self->listener_ != nullptr) self->listener_->OnPartitionsRevoked(tps);
    rd_kafka_assign(rk, nullptr);
    for (const TopicPartition& tp : tps) self->positions_.erase(tp);
  }
}

absl::Status KafkaConsumer::Subscribe(std::vector<std::string> topics, RebalanceListener* listener) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (config_.group_id.empty()) return absl::InvalidArgumentError("Subscribe needs group.id");
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  listener_ = listener;
  manual_ = false;
  return ErrorToStatus(rd_kafka_subscribe(rk_.get(), list.get()), "subscribe");
}

absl::Status KafkaConsumer::Assign(std::vector<TopicPartition> partitions) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  manual_ = true;
  positions_.clear();
  for (const TopicPartition& tp : partitions) positions_[tp] = RD_KAFKA_OFFSET_INVALID;
  return Reassign();
}

absl::Status KafkaConsumer::Reassign() {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(positions_.size())));
  for (const auto& [tp, offset] : positions_) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  }
  return ErrorToStatus(rd_kafka_assign(rk_.get(), list.get()), "assign");
}

absl::Status KafkaConsumer::Unsubscribe() {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  positions_.clear();
  if (manual_) return ErrorToStatus(rd_kafka_assign(rk_.get(), nullptr), "unassign");
  return ErrorToStatus(rd_kafka_unsubscribe(rk_.get()), "unsubscribe");
}

std::vector<TopicPartition> KafkaConsumer::Assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, offset] : positions_) out.push_back(tp);
  return out;
}

absl::Status KafkaConsumer::Poll(absl::Duration timeout, ConsumerRecords* records) {
  records->Clear();
  EDDY_RETURN_IF_ERROR(CheckOpen());
  // Block for the first message only, then take what is already there (consume_batch would wait for a
  // full batch).
  rd_kafka_message_t* first = rd_kafka_consumer_poll(rk_.get(), ToMs(timeout));
  if (first == nullptr) return absl::OkStatus();
  messages_[0] = first;
  ssize_t more = messages_.size() > 1 ? rd_kafka_consume_batch_queue(queue_.get(), 0, messages_.data() + 1,
                                                                    messages_.size() - 1)
                                      : 0;
  const size_t n = 1 + static_cast<size_t>(std::max<ssize_t>(0, more));
  // Errors (other than end-of-partition notices) end the batch; the data before them is returned.
  size_t data = 0;
  absl::Status error;
  for (; data < n; ++data) {
    const rd_kafka_message_t* m = messages_[data];
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      error = ErrorToStatus(m->err, m->rkt != nullptr ? absl::StrCat("topic '", rd_kafka_topic_name(m->rkt), "'")
                                                      : std::string("consumer"),
                            rd_kafka_message_errstr(m));
    }
    break;
  }
  absl::Status encoded = encoder_.Encode(messages_.data(), data, records);
  for (size_t i = 0; i < n; ++i) rd_kafka_message_destroy(messages_[i]);
  EDDY_RETURN_IF_ERROR(encoded);
  if (!records->partitions().empty()) {
    PartitionListPtr store(rd_kafka_topic_partition_list_new(static_cast<int>(records->partitions().size())));
    for (const ConsumerRecords::PartitionRange& r : records->partitions()) {
      auto it = positions_.find(r.tp);
      if (it == positions_.end()) continue;  // revoked meanwhile
      it->second = r.next_offset;
      rd_kafka_topic_partition_list_add(store.get(), r.tp.topic.c_str(), r.tp.partition)->offset = r.next_offset;
    }
    if (!config_.group_id.empty() && store->cnt > 0) rd_kafka_offsets_store(rk_.get(), store.get());
  }
  if (!error.ok() && records->empty()) return error;
  return absl::OkStatus();
}

absl::Status KafkaConsumer::Seek(const TopicPartition& tp, int64_t offset) {
  return SeekAll({tp}, offset);
}
absl::Status KafkaConsumer::SeekToBeginning(const std::vector<TopicPartition>& partitions) {
  return SeekAll(partitions, RD_KAFKA_OFFSET_BEGINNING);
}
absl::Status KafkaConsumer::SeekToEnd(const std::vector<TopicPartition>& partitions) {
  return SeekAll(partitions, RD_KAFKA_OFFSET_END);
}

absl::Status KafkaConsumer::SeekAll(const std::vector<TopicPartition>& partitions, int64_t offset) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  for (const TopicPartition& tp : partitions) {
    auto it = positions_.find(tp);
    if (it == positions_.end()) {
      return absl::FailedPreconditionError(absl::StrCat("partition ", ToString(tp), " is not assigned"));
    }
    it->second = offset;
  }
  // A manual assignment restarts its fetchers at the new positions (reliable even before the first fetch);
  // a group member seeks the running fetchers.
  if (manual_) return Reassign();
  PartitionListPtr list = ToList(partitions, offset);
  rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_.get(), list.get(), 10000);
  if (error != nullptr) {
    absl::Status s = ErrorToStatus(rd_kafka_error_code(error), "seek", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return s;
  }
  return ErrorToStatus(FirstError(RD_KAFKA_RESP_ERR_NO_ERROR, list.get()), "seek");
}

absl::StatusOr<int64_t> KafkaConsumer::Position(const TopicPartition& tp) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  auto it = positions_.find(tp);
  if (it == positions_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("partition ", ToString(tp), " is not assigned"));
  }
  if (it->second >= 0) return it->second;
  int64_t target = it->second;
  if (target == RD_KAFKA_OFFSET_INVALID && !config_.group_id.empty()) {
    EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> committed, Committed(tp));
    if (committed) return *committed;
  }
  if (target == RD_KAFKA_OFFSET_INVALID) {
    if (config_.auto_offset_reset == OffsetReset::kNone) {
      return absl::OutOfRangeError(absl::StrCat("no position for ", ToString(tp), " (auto.offset.reset=none)"));
    }
    target = config_.auto_offset_reset == OffsetReset::kEarliest ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  }
  int64_t low = 0, high = 0;
  EDDY_RETURN_IF_ERROR(ErrorToStatus(
      rd_kafka_query_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition, &low, &high, 60000),
      absl::StrCat("offsets of ", ToString(tp))));
  return target == RD_KAFKA_OFFSET_BEGINNING ? low : high;
}

PartitionListPtr KafkaConsumer::CommittablePositions() const {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(positions_.size())));
  for (const auto& [tp, offset] : positions_) {
    if (offset >= 0) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  }
  return list;
}

absl::Status KafkaConsumer::Commit(const rd_kafka_topic_partition_list_t* offsets, absl::Duration timeout) {
  if (config_.group_id.empty()) return absl::FailedPreconditionError("committing offsets needs group.id");
  if (offsets->cnt == 0) return absl::OkStatus();
  QueuePtr q(rd_kafka_queue_new(rk_.get()));
  CommitResult result;
  rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk_.get(), offsets, q.get(), &OnSyncCommit, &result);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorToStatus(err, "commit");
  EventPtr event(rd_kafka_queue_poll(q.get(), ToMs(timeout)));
  if (event != nullptr && rd_kafka_event_type(event.get()) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
    result.done = true;
    result.err = FirstError(rd_kafka_event_error(event.get()), rd_kafka_event_topic_partition_list(event.get()));
  }
  if (!result.done) return absl::DeadlineExceededError("commit: no answer from the group coordinator in time");
  return ErrorToStatus(result.err, "commit");
}

absl::Status KafkaConsumer::CommitSync(absl::Duration timeout) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  PartitionListPtr list = CommittablePositions();
  return Commit(list.get(), timeout);
}

absl::Status KafkaConsumer::CommitSync(const std::vector<TopicPartitionOffset>& offsets, absl::Duration timeout) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const TopicPartitionOffset& o : offsets) {
    rd_kafka_topic_partition_t* p = rd_kafka_topic_partition_list_add(list.get(), o.tp.topic.c_str(), o.tp.partition);
    p->offset = o.offset;
    if (!o.metadata.empty()) {
      p->metadata = malloc(o.metadata.size());  // freed by the list
      memcpy(p->metadata, o.metadata.data(), o.metadata.size());
      p->metadata_size = o.metadata.size();
    }
  }
  return Commit(list.get(), timeout);
}

void KafkaConsumer::CommitAsync(CommitCallback callback) {
  absl::Status s = CheckOpen();
  if (s.ok() && config_.group_id.empty()) s = absl::FailedPreconditionError("committing offsets needs group.id");
  PartitionListPtr list = CommittablePositions();
  if (!s.ok() || list->cnt == 0) {
    if (callback) callback(s);
    return;
  }
  auto* opaque = new CommitCallback(std::move(callback));  // one per commit; freed by OnAsyncCommit
  rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk_.get(), list.get(), queue_.get(), &OnAsyncCommit, opaque);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) OnAsyncCommit(rk_.get(), err, nullptr, opaque);
}

absl::StatusOr<std::vector<TopicPartitionOffset>> KafkaConsumer::CommittedOffsets(
    const std::vector<TopicPartition>& partitions) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (config_.group_id.empty()) return absl::FailedPreconditionError("committed offsets need group.id");
  std::vector<TopicPartitionOffset> out;
  if (partitions.empty()) return out;
  PartitionListPtr list = ToList(partitions, RD_KAFKA_OFFSET_INVALID);
  EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_committed(rk_.get(), list.get(), 60000), "committed offsets"));
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    TopicPartition tp{p.topic, p.partition};
    EDDY_RETURN_IF_ERROR(ErrorToStatus(p.err, absl::StrCat("committed offset of ", ToString(tp))));
    if (p.offset < 0) continue;
    std::string metadata;
    if (p.metadata != nullptr) metadata.assign(static_cast<const char*>(p.metadata), p.metadata_size);
    out.push_back(TopicPartitionOffset{std::move(tp), p.offset, std::move(metadata)});
  }
  return out;
}

absl::Status KafkaConsumer::Close() {
  if (closed_ || rk_ == nullptr) return absl::OkStatus();
  closed_ = true;
  // With enable.auto.commit, librdkafka commits the stored positions while closing; then leaves the group.
  absl::Status s = ErrorToStatus(rd_kafka_consumer_close(rk_.get()), "close");
  absl::MutexLock lock(&wakeup_mu_);
  queue_.reset();
  rk_.reset();
  return s;
}

void KafkaConsumer::Wakeup() {
  absl::MutexLock lock(&wakeup_mu_);
  // rd_kafka_consumer_poll waits on this queue; the yield makes it return NULL (no message).
  if (queue_ != nullptr) rd_kafka_queue_yield(queue_.get());
}

}  // namespace eddy::kafka_client
