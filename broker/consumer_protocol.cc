#include "broker/consumer_protocol.h"

#include <limits>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "broker/group_bytes.h"

namespace eddy::broker {
namespace {

constexpr size_t kMaxString = std::numeric_limits<int16_t>::max();

absl::Status CheckString(absl::string_view s, absl::string_view what) {
  if (s.size() > kMaxString) {
    return absl::InvalidArgumentError(absl::StrCat(what, " longer than 32767 bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckVersion(int16_t version) {
  if (version < 0 || version > kConsumerProtocolMaxVersion) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported consumer protocol version ", version));
  }
  return absl::OkStatus();
}

// Writes [ {string topic, [int32] partitions} ], topics in name order, partitions in the given order.
absl::Status WriteTopicPartitions(const std::vector<TopicPartition>& tps, ByteWriter* w) {
  std::map<absl::string_view, std::vector<int32_t>> by_topic;
  for (const TopicPartition& tp : tps) by_topic[tp.topic].push_back(tp.partition);
  w->Int32(static_cast<int32_t>(by_topic.size()));
  for (const auto& [topic, partitions] : by_topic) {
    if (absl::Status s = CheckString(topic, "topic name"); !s.ok()) return s;
    w->String(topic);
    w->Int32(static_cast<int32_t>(partitions.size()));
    for (int32_t p : partitions) w->Int32(p);
  }
  return absl::OkStatus();
}

bool ReadTopicPartitions(ByteReader* r, std::vector<TopicPartition>* out) {
  int32_t topics;
  // Each topic entry takes at least 6 bytes (empty name, empty partition array).
  if (!r->ArrayCount(&topics, 6)) return false;
  for (int32_t i = 0; i < topics; ++i) {
    std::string topic;
    int32_t n;
    if (!r->String(&topic) || !r->ArrayCount(&n, 4)) return false;
    for (int32_t j = 0; j < n; ++j) {
      int32_t p;
      if (!r->Int32(&p)) return false;
      out->push_back(TopicPartition{topic, p});
    }
  }
  return true;
}

absl::Status Garbled(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("truncated or malformed consumer protocol ", what));
}

}  // namespace

absl::StatusOr<std::string> EncodeSubscription(const ConsumerSubscription& s, int16_t version) {
  if (absl::Status st = CheckVersion(version); !st.ok()) return st;
  std::string out;
  ByteWriter w(&out);
  w.Int16(version);
  w.Int32(static_cast<int32_t>(s.topics.size()));
  for (const std::string& t : s.topics) {
    if (absl::Status st = CheckString(t, "topic name"); !st.ok()) return st;
    w.String(t);
  }
  w.NullableBytes(s.user_data);
  if (version >= 1) {
    if (absl::Status st = WriteTopicPartitions(s.owned_partitions, &w); !st.ok()) return st;
  }
  if (version >= 2) w.Int32(s.generation_id);
  if (version >= 3) {
    if (s.rack_id) {
      if (absl::Status st = CheckString(*s.rack_id, "rack id"); !st.ok()) return st;
    }
    w.NullableString(s.rack_id);
  }
  return out;
}

absl::StatusOr<ConsumerSubscription> DecodeSubscription(absl::string_view bytes) {
  ByteReader r(bytes);
  ConsumerSubscription s;
  int16_t version;
  int32_t topics;
  if (!r.Int16(&version) || version < 0) return Garbled("subscription");
  if (!r.ArrayCount(&topics, 2)) return Garbled("subscription");
  s.topics.reserve(topics);
  for (int32_t i = 0; i < topics; ++i) {
    std::string t;
    if (!r.String(&t)) return Garbled("subscription");
    s.topics.push_back(std::move(t));
  }
  if (!r.NullableBytes(&s.user_data)) return Garbled("subscription");
  if (version >= 1 && !ReadTopicPartitions(&r, &s.owned_partitions)) return Garbled("subscription");
  if (version >= 2 && !r.Int32(&s.generation_id)) return Garbled("subscription");
  if (version >= 3 && !r.NullableString(&s.rack_id)) return Garbled("subscription");
  return s;
}

absl::StatusOr<std::string> EncodeAssignment(const ConsumerAssignment& a, int16_t version) {
  if (absl::Status st = CheckVersion(version); !st.ok()) return st;
  std::string out;
  ByteWriter w(&out);
  w.Int16(version);
  if (absl::Status st = WriteTopicPartitions(a.partitions, &w); !st.ok()) return st;
  w.NullableBytes(a.user_data);
  return out;
}

absl::StatusOr<ConsumerAssignment> DecodeAssignment(absl::string_view bytes) {
  ConsumerAssignment a;
  if (bytes.empty()) return a;
  ByteReader r(bytes);
  int16_t version;
  if (!r.Int16(&version) || version < 0) return Garbled("assignment");
  if (!ReadTopicPartitions(&r, &a.partitions)) return Garbled("assignment");
  if (!r.NullableBytes(&a.user_data)) return Garbled("assignment");
  return a;
}

}  // namespace eddy::broker
