// ConsumeLoop: the poll loop behind `eddy consume` and `eddy demo`. Polls one topic's consumer, hands each
// record to a callback, stops after max_messages records, after idle_timeout_ms without a record, or on
// SIGINT/SIGTERM, and remembers the offset after the last record handed out per partition, so that
// Commit() commits exactly what was consumed, even when a poll returned more records than were used (the
// next run with the same group continues at the first record not handed out).
//
// Owned by one thread (the consumer's); the Consumer must outlive it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/common.h"
#include "eddy/core/consumer.h"
#include "eddy/core/status.h"

namespace eddy::cli {

struct ConsumeLoopOptions {
  int64_t max_messages = -1;     // -1: no limit
  int64_t idle_timeout_ms = -1;  // -1: wait until a stop signal
};

class ConsumeLoop {
 public:
  ConsumeLoop(Consumer* consumer, ConsumeLoopOptions options) : consumer_(consumer), options_(options) {}

  // Run polls until a stop condition. on_record(const RecordView&) is called per record; after_poll() after
  // each poll that handed out records returns a Status: kUnavailable ends the loop quietly (the output
  // was closed, e.g. piped into `head`), other errors end it with that error. Poll errors are returned
  // annotated. Idle time counts only once the consumer has partitions (a group join may take a while).
  template <typename RecordFn, typename AfterPollFn>
  absl::Status Run(RecordFn&& on_record, AfterPollFn&& after_poll) {
    Stopwatch idle;
    bool assigned = false;
    while (!StopRequested() && (options_.max_messages < 0 || consumed_ < options_.max_messages)) {
      absl::Duration wait = absl::Milliseconds(200);
      if (options_.idle_timeout_ms >= 0 && assigned) {
        int64_t left = options_.idle_timeout_ms - idle.Micros() / 1000;
        wait = absl::Milliseconds(std::clamp<int64_t>(left, 0, 200));
      }
      EDDY_RETURN_IF_ERROR(Annotate(consumer_->Poll(wait, &records_), "cannot read"));
      if (records_.empty()) {
        if (!assigned && !consumer_->Assignment().empty()) {
          assigned = true;
          idle = Stopwatch();
        }
        if (assigned && options_.idle_timeout_ms >= 0 && idle.Micros() / 1000 >= options_.idle_timeout_ms) break;
        continue;
      }
      assigned = true;
      idle = Stopwatch();
      bool cut = false;
      for (const RecordView& r : records_) {
        if (options_.max_messages >= 0 && consumed_ >= options_.max_messages) {
          cut = true;
          break;
        }
        on_record(r);
        ++consumed_;
        NoteRecord(r);
      }
      EDDY_RETURN_IF_ERROR(Annotate(records_.status(), "cannot read a record"));
      NotePoll(cut);
      absl::Status s = after_poll();
      if (absl::IsUnavailable(s)) {
        output_closed_ = true;
        break;
      }
      EDDY_RETURN_IF_ERROR(s);
    }
    return absl::OkStatus();
  }

  int64_t consumed() const { return consumed_; }
  bool output_closed() const { return output_closed_; }

  // Commit commits, with CommitSync, for each assigned partition the offset after the last record handed
  // out (or the current position if none was), and waits until it is durable.
  absl::Status Commit();

 private:
  void NoteRecord(const RecordView& r) {
    size_t p = static_cast<size_t>(r.partition());
    if (p >= last_offset_.size()) last_offset_.resize(p + 1, -1);
    if (last_offset_[p] < 0) touched_.push_back(r.partition());
    last_offset_[p] = r.offset();
  }
  // NotePoll records the next offsets to commit after a poll (`cut`: not all of its records were used).
  void NotePoll(bool cut);

  Consumer* consumer_;
  ConsumeLoopOptions options_;
  ConsumerRecords records_;
  std::vector<int64_t> last_offset_;  // by partition: last offset handed out in this poll, -1: none
  std::vector<int32_t> touched_;      // partitions with last_offset_ set in this poll
  std::map<TopicPartition, int64_t> next_offset_;  // what Commit() commits
  int64_t consumed_ = 0;
  bool output_closed_ = false;
};

}  // namespace eddy::cli
