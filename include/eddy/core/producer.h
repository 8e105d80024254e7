// Producer: the client interface for writing records, shaped like Kafka's KafkaProducer. Implemented by
// the embedded broker's producer (broker/embedded_producer.h) and, in a later issue, by a librdkafka-based
// producer for remote clusters; the runtime sees only this interface.
#pragma once

#include <cstdint>
#include <future>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/core/record.h"
#include "eddy/core/record_batch_format.h"

namespace eddy {

// acks: when a send counts as successful (Kafka's `acks`).
enum class Acks : int8_t {
  kNone = 0,     // not acknowledged at all: the callback sees offset -1 as soon as the batch is handed over
  kLeader = 1,   // after the batch is appended to the log (in the page cache; lost on power failure)
  kAll = -1,     // after the batch is fsynced (survives power failure). Kafka's default since 3.0.
};

// Producer settings. Field names are Kafka's config names in snake_case; Set() takes Kafka's spelling.
struct ProducerConfig {
  std::string client_id = "eddy-producer";  // client.id
  Acks acks = Acks::kAll;                   // acks (all)
  int64_t linger_ms = 5;                    // linger.ms (Kafka 4.0's default; 0 before)
  int32_t batch_size = 16384;               // batch.size: bytes per partition batch before it is sent
  Compression compression = Compression::kNone;  // compression.type: none|gzip|snappy|lz4|zstd
  int64_t buffer_memory = 32 << 20;         // buffer.memory: bytes waiting to be acknowledged before Send blocks
  int64_t max_block_ms = 60000;             // max.block.ms: how long Send blocks on a full buffer
  int32_t max_request_size = 1048576;       // max.request.size: largest single record accepted by Send

  // Sets one config by its Kafka name ("linger.ms", "acks", ...). kInvalidArgument names an unknown key or a
  // bad value.
  absl::Status Set(absl::string_view name, absl::string_view value);
};

// Where a record landed. Offset -1 with acks=0.
struct RecordMetadata {
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;  // CreateTime given or taken at Send, or the broker's LogAppendTime
};

// Called once per record, on the producer's I/O thread: keep it short. With an error, `metadata` has the
// partition only.
using DeliveryCallback = absl::AnyInvocable<void(const absl::Status& status, const RecordMetadata& metadata)>;

// A Producer is thread-safe: any number of threads may Send concurrently. Records sent to one partition
// from one thread keep their order.
class Producer {
 public:
  virtual ~Producer() = default;

  // Send copies `record` into a batch and returns; the record is delivered in the background. Errors
  // returned here mean the record was not accepted: kNotFound (unknown topic), kInvalidArgument (partition
  // out of range, record larger than max.request.size), kResourceExhausted (buffer full for max.block.ms),
  // kFailedPrecondition (producer closed). Later errors (e.g. disk full) reach `callback`.
  virtual absl::Status Send(const ProducerRecord& record, DeliveryCallback callback = nullptr) = 0;

  // Flush sends every buffered record now and waits until all are acknowledged (or failed). Returns the
  // first delivery error seen since the last Flush, or kDeadlineExceeded.
  virtual absl::Status Flush(absl::Duration timeout = absl::InfiniteDuration()) = 0;

  // PartitionsFor returns the topic's partition count (kNotFound if the topic does not exist).
  virtual absl::StatusOr<int32_t> PartitionsFor(absl::string_view topic) = 0;

  // Close flushes and stops the producer; Send afterwards fails. Also done by the destructor.
  virtual absl::Status Close(absl::Duration timeout = absl::InfiniteDuration()) = 0;

  // A burst of Sends from the calling thread, such as a stream thread's processing of one poll: between
  // BeginSends and EndSends the producer may hold its internal lock instead of taking it per record, so
  // other threads' calls on it wait for EndSends. Flush, Close and PartitionsFor from the bursting thread
  // still work. Bursts may nest; keep them short (one batch of records): threads sharing one producer take
  // turns per burst, not per record. Default: no-op. Use SendBurst.
  virtual void BeginSends() {}
  virtual void EndSends() {}

  // SendAsync is Send with a future instead of a callback (one allocation per record: for convenience, not
  // for the hot path).
  std::future<absl::StatusOr<RecordMetadata>> SendAsync(const ProducerRecord& record);
};

// BeginSends for its scope (no-op for a null producer). Thread-compatible: one per thread.
class SendBurst {
 public:
  explicit SendBurst(Producer* producer) : producer_(producer) {
    if (producer_ != nullptr) producer_->BeginSends();
  }
  ~SendBurst() {
    if (producer_ != nullptr) producer_->EndSends();
  }
  SendBurst(const SendBurst&) = delete;
  SendBurst& operator=(const SendBurst&) = delete;

 private:
  Producer* producer_;
};

}  // namespace eddy
