// Shared by the window tests: randomized out-of-order input with late records, piped through a TestDriver
// with two partitions, and what each task saw (for the brute-force references).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/core/partitioner.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/record_batch_format.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/task.h"
#include "eddy/runtime/test_driver.h"
#include "gtest/gtest.h"

namespace eddy::window_test {

struct InputRecord {
  std::string key;
  int64_t timestamp = 0;
  int64_t value = 0;
  int32_t partition = 0;  // filled in after piping
};

// Mostly increasing timestamps with jitter; one record in ten is late by up to `max_late_ms`.
inline std::vector<InputRecord> RandomRecords(uint32_t seed, int n, int keys, int64_t step_ms, int64_t jitter_ms,
                                              int64_t max_late_ms) {
  std::mt19937 rng(seed);
  std::vector<InputRecord> out;
  int64_t t = 0;
  for (int i = 0; i < n; ++i) {
    t += std::uniform_int_distribution<int64_t>(0, step_ms)(rng);
    const bool late = std::uniform_int_distribution<int>(0, 9)(rng) == 0;
    const int64_t back = std::uniform_int_distribution<int64_t>(0, late ? max_late_ms : jitter_ms)(rng);
    InputRecord r;
    r.key = absl::StrCat("k", std::uniform_int_distribution<int>(0, keys - 1)(rng));
    r.timestamp = std::max<int64_t>(0, t - back);
    r.value = std::uniform_int_distribution<int64_t>(1, 100)(rng);
    out.push_back(r);
  }
  return out;
}

// Pipes `records` into topic "in" (partitioned by key) and notes each one's partition.
inline void PipeAll(TestDriver& driver, std::vector<InputRecord>* records) {
  auto in = driver.CreateInputTopic("in", StringSerde(), Int64Serde());
  for (InputRecord& r : *records) ASSERT_TRUE(in.PipeInput(r.key, r.value, r.timestamp).ok());
  const std::vector<StoredRecord>& stored = driver.TopicRecords("in");
  ASSERT_EQ(stored.size(), records->size());
  for (size_t i = 0; i < records->size(); ++i) (*records)[i].partition = stored[i].partition;
}

// Processes `records` as a stream thread does: each partition's records (partitioned as PipeAll) in record
// batches of random sizes (1 to 200 records, one Task::Process call each), bypassing the driver's one-record
// batches; the tasks' output still reaches the driver's topics. Notes each record's partition.
inline void ProcessAllInBatches(TestDriver& driver, std::vector<InputRecord>* records, uint32_t seed) {
  const int32_t partitions = driver.PartitionCount("in");
  std::vector<std::vector<const InputRecord*>> by_partition(partitions);
  std::string key_bytes, value_bytes;
  for (InputRecord& r : *records) {
    r.partition = KeyPartition(r.key, partitions);
    by_partition[r.partition].push_back(&r);
  }
  std::mt19937 rng(seed);
  RecordBatchBuilder builder;
  std::vector<RecordView> views;
  std::string batch;
  for (int32_t p = 0; p < partitions; ++p) {
    Task* task = nullptr;
    for (const TaskId& id : driver.task_ids()) {
      if (id.partition == p) task = driver.task(id);
    }
    ASSERT_NE(task, nullptr);
    const std::vector<const InputRecord*>& rs = by_partition[p];
    int64_t offset = 0;
    for (size_t i = 0; i < rs.size();) {
      const size_t n = std::min(rs.size() - i, std::uniform_int_distribution<size_t>(1, 200)(rng));
      builder.Reset();
      for (size_t j = i; j < i + n; ++j) {
        SerializeWith(Int64Serde(), rs[j]->value, &value_bytes).IgnoreError();
        builder.Append(rs[j]->timestamp, rs[j]->key, value_bytes, {});
      }
      absl::StatusOr<absl::Span<char>> built = builder.Finish();
      ASSERT_TRUE(built.ok()) << built.status();
      batch.assign(built->data(), built->size());
      SetBaseOffset(batch.data(), offset);
      absl::StatusOr<RecordIterator> it = RecordIterator::Open(batch, nullptr);
      ASSERT_TRUE(it.ok()) << it.status();
      it->set_partition(p);
      views.assign(n, RecordView());
      for (size_t j = 0; j < n; ++j) ASSERT_TRUE(it->Next(&views[j]));
      ASSERT_TRUE(task->Process(TopicPartition{"in", p}, views).ok());
      offset += static_cast<int64_t>(n);
      i += n;
    }
  }
}

inline TestDriverConfig TwoPartitions() {
  TestDriverConfig config;
  config.application_id = "win";
  config.default_partitions = 2;
  config.log = [](absl::string_view) {};  // the first late record of each node is logged; tests count them
  // Commits at the end only (Commit()): updates coalesce in the caches, as between real commits.
  config.commit_after_each_input = false;
  return config;
}

inline int64_t DroppedRecords(TestDriver& driver) {
  int64_t dropped = 0;
  for (const TaskId& id : driver.task_ids()) dropped += driver.task(id)->metrics().dropped_records;
  return dropped;
}

// (key, window start, window end) -> value.
using WindowResults = std::map<std::tuple<std::string, int64_t, int64_t>, int64_t>;

// Every record of a windowed output topic: the last value per window, and how many records each window got.
template <typename KS>
void ReadWindowed(TestDriver& driver, const std::string& topic, KS key_serde, WindowResults* last,
                  std::map<std::tuple<std::string, int64_t, int64_t>, int>* emits) {
  auto out = driver.CreateOutputTopic(topic, key_serde, Int64Serde());
  auto records = out.ReadRecordsToList();
  ASSERT_TRUE(records.ok()) << records.status();
  for (const auto& r : *records) {
    ASSERT_TRUE(r.key.has_value() && r.value.has_value());
    const auto k = std::make_tuple(r.key->key, r.key->window.start, r.key->window.end);
    (*last)[k] = *r.value;
    if (emits != nullptr) ++(*emits)[k];
  }
}

}  // namespace eddy::window_test
