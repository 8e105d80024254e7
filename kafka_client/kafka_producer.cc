#include "kafka_client/kafka_producer.h"

#include <string.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/compression.h"
#include "eddy/core/status.h"

namespace eddy::kafka_client {

KafkaConfigs MapProducerConfig(const ProducerConfig& c) {
  return {
      {"client.id", c.client_id},
      {"acks", absl::StrCat(static_cast<int>(c.acks))},
      {"linger.ms", absl::StrCat(c.linger_ms)},
      {"batch.size", absl::StrCat(c.batch_size)},
      {"compression.type", std::string(CompressionName(c.compression))},
      {"queue.buffering.max.kbytes", absl::StrCat(std::max<int64_t>(1, c.buffer_memory / 1024))},
      // Kafka bounds the buffer by bytes only; librdkafka also by count (default 100,000).
      {"queue.buffering.max.messages", "10000000"},
      {"message.max.bytes", absl::StrCat(std::max<int32_t>(1000, c.max_request_size))},
      {"partitioner", "murmur2_random"},
  };
}

absl::StatusOr<std::unique_ptr<Producer>> KafkaProducer::Create(const ProducerConfig& config,
                                                                const KafkaConfigs& kafka) {
  EDDY_ASSIGN_OR_RETURN(ConfPtr conf, NewConf(MapProducerConfig(config), kafka));
  // Delivery reports as events: batches of messages, and rd_kafka_flush() then waits instead of running
  // callbacks on the flushing thread.
  rd_kafka_conf_set_events(conf.get(), RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR);
  std::unique_ptr<KafkaProducer> p(new KafkaProducer(config.max_block_ms));
  EDDY_ASSIGN_OR_RETURN(p->rk_, NewHandle(RD_KAFKA_PRODUCER, std::move(conf)));
  p->main_queue_.reset(rd_kafka_queue_get_main(p->rk_.get()));
  p->delivery_thread_ = std::thread([raw = p.get()] { raw->ServeEvents(); });
  return std::unique_ptr<Producer>(std::move(p));
}

KafkaProducer::~KafkaProducer() { Close().IgnoreError(); }

absl::StatusOr<rd_kafka_topic_t*> KafkaProducer::TopicLocked(absl::string_view name) {
  auto it = topics_.find(name);
  if (it != topics_.end()) return it->second;
  const std::string topic(name);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
  if (rkt == nullptr) return ErrorToStatus(rd_kafka_last_error(), absl::StrCat("topic '", name, "'"));
  topics_.emplace(topic, rkt);
  return rkt;
}

KafkaProducer::Slot* KafkaProducer::AcquireSlotLocked() {
  if (free_ == nullptr) free_ = released_.exchange(nullptr, std::memory_order_acquire);
  if (free_ == nullptr) {
    auto slab = std::make_unique<Slot[]>(kSlabSize);
    for (size_t i = 0; i + 1 < kSlabSize; ++i) slab[i].next = &slab[i + 1];
    free_ = &slab[0];
    slabs_.push_back(std::move(slab));
  }
  Slot* s = free_;
  free_ = s->next;
  return s;
}

void KafkaProducer::ReleaseSlot(Slot* slot) {
  slot->callback = nullptr;
  Slot* head = released_.load(std::memory_order_relaxed);
  do {
    slot->next = head;
  } while (!released_.compare_exchange_weak(head, slot, std::memory_order_release, std::memory_order_relaxed));
}

absl::Status KafkaProducer::Send(const ProducerRecord& record, DeliveryCallback callback) {
  rd_kafka_topic_t* rkt = nullptr;
  Slot* slot = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::FailedPreconditionError("the producer is closed");
    EDDY_ASSIGN_OR_RETURN(rkt, TopicLocked(record.topic));
    if (callback) slot = AcquireSlotLocked();
  }
  if (slot != nullptr) slot->callback = std::move(callback);
  absl::Status s = Produce(rkt, record, slot);
  if (!s.ok() && slot != nullptr) ReleaseSlot(slot);
  return s;
}

absl::Status KafkaProducer::Produce(rd_kafka_topic_t* rkt, const ProducerRecord& r, Slot* slot) {
  static const char kEmpty[1] = {0};
  // librdkafka takes a null pointer as a null key/value; a present empty one needs a non-null pointer.
  const char* value = r.value ? (r.value->empty() ? kEmpty : r.value->data()) : nullptr;
  const size_t value_len = r.value ? r.value->size() : 0;
  const char* key = r.key ? (r.key->empty() ? kEmpty : r.key->data()) : nullptr;
  const size_t key_len = r.key ? r.key->size() : 0;
  const int32_t partition = r.partition < 0 ? RD_KAFKA_PARTITION_UA : r.partition;
  absl::Time deadline = absl::InfinitePast();
  for (;;) {
    rd_kafka_resp_err_t err;
    if (r.timestamp < 0 && r.headers.empty()) {
      err = rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value), value_len, key,
                             key_len, slot) == 0
                ? RD_KAFKA_RESP_ERR_NO_ERROR
                : rd_kafka_last_error();
    } else {
      rd_kafka_headers_t* headers = nullptr;
      if (!r.headers.empty()) {
        headers = rd_kafka_headers_new(r.headers.size());
        for (const HeaderRef& h : r.headers) {
          rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()),
                              h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
        }
      }
      err = rd_kafka_producev(rk_.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value), value_len),
                              RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_TIMESTAMP(std::max<int64_t>(0, r.timestamp)),
                              RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) rd_kafka_headers_destroy(headers);
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return ErrorToStatus(err, absl::StrCat("cannot send to topic '", r.topic, "'"));
    }
    // Kafka's Send blocks on a full buffer for up to max.block.ms; the delivery thread drains it.
    const absl::Time now = absl::Now();
    if (deadline == absl::InfinitePast()) deadline = now + absl::Milliseconds(max_block_ms_);
    if (now >= deadline) {
      return absl::ResourceExhaustedError(
          absl::StrCat("producer buffer full for max.block.ms (", max_block_ms_, " ms)"));
    }
    absl::SleepFor(absl::Microseconds(200));
  }
}

void KafkaProducer::ServeEvents() {
  while (!stop_.load(std::memory_order_acquire)) {
    EventPtr event(rd_kafka_queue_poll(main_queue_.get(), 100));
    if (event == nullptr) continue;
    switch (rd_kafka_event_type(event.get())) {
      case RD_KAFKA_EVENT_DR:
        HandleDeliveries(event.get());
        break;
      case RD_KAFKA_EVENT_ERROR:
        if (rd_kafka_event_error_is_fatal(event.get())) {
          RecordError(ErrorToStatus(rd_kafka_event_error(event.get()), "fatal producer error",
                                    rd_kafka_event_error_string(event.get())));
        }
        break;
      default:
        break;
    }
  }
}

void KafkaProducer::HandleDeliveries(rd_kafka_event_t* event) {
  while (const rd_kafka_message_t* m = rd_kafka_event_message_next(event)) {
    absl::Status status;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = ErrorToStatus(m->err, absl::StrCat("cannot deliver to topic '", rd_kafka_topic_name(m->rkt), "'"));
      RecordError(status);
    }
    auto* slot = static_cast<Slot*>(m->_private);
    if (slot == nullptr) continue;
    RecordMetadata md;
    md.partition = m->partition;
    if (status.ok()) {
      md.offset = m->offset;
      md.timestamp = rd_kafka_message_timestamp(m, nullptr);
    }
    slot->callback(status, md);
    ReleaseSlot(slot);
  }
}

void KafkaProducer::RecordError(const absl::Status& s) {
  absl::MutexLock lock(&error_mu_);
  if (first_error_.ok()) first_error_ = s;
}

absl::Status KafkaProducer::Flush(absl::Duration timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), ToMs(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::DeadlineExceededError(absl::StrCat("flush: ", rd_kafka_outq_len(rk_.get()),
                                                    " records still unacknowledged"));
  }
  absl::MutexLock lock(&error_mu_);
  absl::Status first = std::move(first_error_);
  first_error_ = absl::OkStatus();
  return first;
}

absl::StatusOr<int32_t> KafkaProducer::PartitionsFor(absl::string_view topic) {
  rd_kafka_topic_t* rkt;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::FailedPreconditionError("the producer is closed");
    EDDY_ASSIGN_OR_RETURN(rkt, TopicLocked(topic));
  }
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, rkt, &md, 60000);
  EDDY_RETURN_IF_ERROR(ErrorToStatus(err, absl::StrCat("metadata for topic '", topic, "'")));
  absl::StatusOr<int32_t> result = absl::NotFoundError(absl::StrCat("topic '", topic, "' does not exist"));
  if (md->topic_cnt == 1) {
    if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = ErrorToStatus(md->topics[0].err, absl::StrCat("topic '", topic, "'"));
    } else {
      result = md->topics[0].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return result;
}

absl::Status KafkaProducer::Close(absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
  }
  absl::Status flushed = Flush(timeout);
  if (!flushed.ok()) {
    // Fail what is still queued or in flight, and let the delivery thread report it.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_.get(), 5000);
  }
  stop_.store(true, std::memory_order_release);
  if (delivery_thread_.joinable()) delivery_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
    topics_.clear();
  }
  main_queue_.reset();
  rk_.reset();
  return flushed;
}

}  // namespace eddy::kafka_client
