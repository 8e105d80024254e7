// Test helpers for the librdkafka-backed clients: OwnedRecord (a consumed record copied out of its
// ConsumerRecords) and PollUntil (polls until a number of records arrived or a generous deadline passed; no
// test asserts how long anything takes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "eddy/core/consumer.h"

namespace eddy::kafka_client {

struct OwnedRecord {
  int32_t partition;
  int64_t offset;
  int64_t timestamp;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

// PollUntil polls `consumer` until `count` records arrived (or 30 s passed) and returns them.
inline absl::StatusOr<std::vector<OwnedRecord>> PollUntil(Consumer& consumer, size_t count,
                                                          absl::Duration deadline = absl::Seconds(30)) {
  std::vector<OwnedRecord> out;
  ConsumerRecords records;
  const absl::Time end = absl::Now() + deadline;
  while (out.size() < count && absl::Now() < end) {
    absl::Status s = consumer.Poll(absl::Milliseconds(100), &records);
    if (!s.ok()) return s;
    for (const RecordView& r : records) {
      OwnedRecord o{r.partition(), r.offset(), r.timestamp(), std::nullopt, std::nullopt, {}};
      if (r.has_key()) o.key = std::string(r.key());
      if (r.has_value()) o.value = std::string(r.value());
      r.ForEachHeader([&](const HeaderRef& h) {
        o.headers.emplace_back(std::string(h.key),
                               h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt);
      });
      out.push_back(std::move(o));
    }
    if (!records.status().ok()) return records.status();
  }
  return out;
}

}  // namespace eddy::kafka_client
