#include "broker/net/producer_state.h"

#include "absl/strings/str_cat.h"

namespace eddy::net {
namespace {

constexpr size_t kBatchesKept = 5;

struct BatchRecord {
  int32_t first_sequence;
  int32_t last_sequence;
  int64_t first_offset;
  int64_t last_offset;
};

struct ProducerEntry {
  int16_t epoch = 0;
  std::deque<BatchRecord> batches;  // oldest first
};

int32_t NextSequence(int32_t s) { return s == INT32_MAX ? 0 : s + 1; }

}  // namespace

class ProducerStateTable::PartitionState {
 public:
  absl::Mutex mu;
  absl::flat_hash_map<int64_t, ProducerEntry> producers ABSL_GUARDED_BY(mu);
};

ProducerStateTable::ProducerStateTable() = default;
ProducerStateTable::~ProducerStateTable() = default;

ProducerStateTable::Guard ProducerStateTable::Lock(absl::string_view topic, int32_t partition) {
  PartitionState* state;
  {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<PartitionState>& slot = partitions_[absl::StrCat(topic, "\n", partition)];
    if (slot == nullptr) slot = std::make_unique<PartitionState>();
    state = slot.get();
  }
  return Guard(state);
}

ProducerStateTable::Guard::Guard(PartitionState* state) : state_(state) { state_->mu.Lock(); }

ProducerStateTable::Guard::~Guard() {
  if (state_ != nullptr) state_->mu.Unlock();
}

ProducerStateTable::Decision ProducerStateTable::Guard::Check(const ProducerBatchInfo& batch)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Decision d;
  auto it = state_->producers.find(batch.producer_id);
  if (it == state_->producers.end()) {
    if (batch.first_sequence != 0) d.error = broker::ErrorCode::kUnknownProducerId;
    return d;
  }
  const ProducerEntry& e = it->second;
  if (batch.producer_epoch < e.epoch) {
    d.error = broker::ErrorCode::kInvalidProducerEpoch;
    return d;
  }
  if (batch.producer_epoch > e.epoch) {
    if (batch.first_sequence != 0) d.error = broker::ErrorCode::kOutOfOrderSequenceNumber;
    return d;
  }
  for (const BatchRecord& b : e.batches) {
    if (b.first_sequence == batch.first_sequence && b.last_sequence == batch.last_sequence) {
      d.duplicate = true;
      d.first_offset = b.first_offset;
      d.last_offset = b.last_offset;
      return d;
    }
  }
  if (!e.batches.empty() && batch.first_sequence != NextSequence(e.batches.back().last_sequence)) {
    d.error = broker::ErrorCode::kOutOfOrderSequenceNumber;
  }
  return d;
}

void ProducerStateTable::Guard::Record(const ProducerBatchInfo& batch, int64_t first_offset, int64_t last_offset)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  ProducerEntry& e = state_->producers[batch.producer_id];
  if (batch.producer_epoch != e.epoch) {
    e.epoch = batch.producer_epoch;
    e.batches.clear();
  }
  e.batches.push_back(BatchRecord{batch.first_sequence, batch.last_sequence, first_offset, last_offset});
  while (e.batches.size() > kBatchesKept) e.batches.pop_front();
}

}  // namespace eddy::net
