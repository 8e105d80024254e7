#include "kafka_client/kafka_admin.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy::kafka_client {
namespace {

bool IsInternalTopic(absl::string_view name) {
  return name == "__consumer_offsets" || name == "__transaction_state";
}

// Big-endian readers for ParseConsumerAssignment.
bool ReadInt(absl::string_view* in, int bytes, int64_t* out) {
  if (in->size() < static_cast<size_t>(bytes)) return false;
  int64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>((*in)[i]);
  if (bytes == 2) v = static_cast<int16_t>(v);
  if (bytes == 4) v = static_cast<int32_t>(v);
  in->remove_prefix(bytes);
  return true;
}

}  // namespace

absl::StatusOr<std::vector<TopicPartition>> ParseConsumerAssignment(absl::string_view in) {
  std::vector<TopicPartition> out;
  if (in.empty()) return out;  // a member without an assignment yet
  int64_t version, topics;
  if (!ReadInt(&in, 2, &version) || !ReadInt(&in, 4, &topics) || topics < 0) {
    return absl::DataLossError("malformed consumer group assignment");
  }
  for (int64_t t = 0; t < topics; ++t) {
    int64_t len, partitions;
    if (!ReadInt(&in, 2, &len) || len < 0 || in.size() < static_cast<size_t>(len)) {
      return absl::DataLossError("malformed consumer group assignment");
    }
    std::string topic(in.substr(0, len));
    in.remove_prefix(len);
    if (!ReadInt(&in, 4, &partitions) || partitions < 0) return absl::DataLossError("malformed consumer group assignment");
    for (int64_t p = 0; p < partitions; ++p) {
      int64_t partition;
      if (!ReadInt(&in, 4, &partition)) return absl::DataLossError("malformed consumer group assignment");
      out.push_back({topic, static_cast<int32_t>(partition)});
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Admin>> KafkaAdmin::Create(const KafkaConfigs& kafka, int timeout_ms) {
  // A metadata request must never create a topic as a side effect.
  EDDY_ASSIGN_OR_RETURN(ConfPtr conf, NewConf({{"client.id", "eddy-admin"}, {"allow.auto.create.topics", "false"}},
                                              kafka));
  EDDY_ASSIGN_OR_RETURN(HandlePtr rk, NewHandle(RD_KAFKA_PRODUCER, std::move(conf)));
  return std::unique_ptr<Admin>(new KafkaAdmin(std::move(rk), timeout_ms));
}

template <typename Start>
absl::StatusOr<EventPtr> KafkaAdmin::RunAdmin(absl::string_view what, Start start) {
  QueuePtr q(rd_kafka_queue_new(rk_.get()));
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_ANY);
  char err[256];
  rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms_, err, sizeof(err));
  start(options, q.get());
  rd_kafka_AdminOptions_destroy(options);
  EventPtr event(rd_kafka_queue_poll(q.get(), timeout_ms_ + 1000));
  if (event == nullptr) return absl::DeadlineExceededError(absl::StrCat(what, ": no answer in time"));
  EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_event_error(event.get()), what, rd_kafka_event_error_string(event.get())));
  return event;
}

absl::Status KafkaAdmin::TopicResultError(const rd_kafka_topic_result_t** results, size_t n, absl::string_view what) {
  for (size_t i = 0; i < n; ++i) {
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_topic_result_error(results[i]), what, msg ? msg : ""));
  }
  return absl::OkStatus();
}

absl::Status KafkaAdmin::CreateTopic(const NewTopic& topic) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.name.c_str(), topic.partitions, -1, err, sizeof(err));
  if (nt == nullptr) return absl::InvalidArgumentError(absl::StrCat("topic '", topic.name, "': ", err));
  for (const auto& [k, v] : topic.configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  absl::StatusOr<EventPtr> ev = RunAdmin("create topic", [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
    rd_kafka_CreateTopics(rk_.get(), &nt, 1, o, q);
  });
  rd_kafka_NewTopic_destroy(nt);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** r = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &n);
  return TopicResultError(r, n, absl::StrCat("create topic '", topic.name, "'"));
}

absl::Status KafkaAdmin::DeleteTopic(absl::string_view name) {
  const std::string topic(name);
  rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic.c_str());
  absl::StatusOr<EventPtr> ev = RunAdmin("delete topic", [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
    rd_kafka_DeleteTopics(rk_.get(), &dt, 1, o, q);
  });
  rd_kafka_DeleteTopic_destroy(dt);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** r = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev->get()), &n);
  return TopicResultError(r, n, absl::StrCat("delete topic '", name, "'"));
}

absl::Status KafkaAdmin::CreatePartitions(absl::string_view name, int32_t total) {
  const std::string topic(name);
  char err[512];
  rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(topic.c_str(), total, err, sizeof(err));
  if (np == nullptr) return absl::InvalidArgumentError(absl::StrCat("topic '", name, "': ", err));
  absl::StatusOr<EventPtr> ev = RunAdmin("create partitions", [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
    rd_kafka_CreatePartitions(rk_.get(), &np, 1, o, q);
  });
  rd_kafka_NewPartitions_destroy(np);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** r =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev->get()), &n);
  return TopicResultError(r, n, absl::StrCat("alter topic '", name, "'"));
}

absl::StatusOr<std::vector<std::string>> KafkaAdmin::ListTopics(bool include_internal) {
  const rd_kafka_metadata_t* md = nullptr;
  EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_metadata(rk_.get(), 1, nullptr, &md, timeout_ms_), "metadata"));
  std::vector<std::string> names;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (!include_internal && IsInternalTopic(md->topics[i].topic)) continue;
    names.emplace_back(md->topics[i].topic);
  }
  rd_kafka_metadata_destroy(md);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::map<std::string, std::string>> KafkaAdmin::TopicConfigs(const std::string& name) {
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  absl::StatusOr<EventPtr> ev = RunAdmin("describe configs", [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
    rd_kafka_DescribeConfigs(rk_.get(), &res, 1, o, q);
  });
  rd_kafka_ConfigResource_destroy(res);
  if (!ev.ok()) return ev.status();
  std::map<std::string, std::string> configs;
  size_t n = 0;
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_ConfigResource_error(rs[i]), "describe configs",
                                       rd_kafka_ConfigResource_error_string(rs[i])
                                           ? rd_kafka_ConfigResource_error_string(rs[i])
                                           : ""));
    size_t cnt = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[i], &cnt);
    for (size_t e = 0; e < cnt; ++e) {
      if (rd_kafka_ConfigEntry_source(entries[e]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) continue;
      const char* value = rd_kafka_ConfigEntry_value(entries[e]);
      configs[rd_kafka_ConfigEntry_name(entries[e])] = value ? value : "";
    }
  }
  return configs;
}

absl::StatusOr<TopicDescription> KafkaAdmin::DescribeTopic(absl::string_view name) {
  const rd_kafka_metadata_t* md = nullptr;
  EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_metadata(rk_.get(), 1, nullptr, &md, timeout_ms_), "metadata"));
  TopicDescription d;
  d.name = std::string(name);
  d.internal = IsInternalTopic(name);
  bool found = false;
  for (int i = 0; i < md->topic_cnt && !found; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (name != t.topic || t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    found = true;
    for (int p = 0; p < t.partition_cnt; ++p) d.partitions.push_back({.partition = t.partitions[p].id});
  }
  rd_kafka_metadata_destroy(md);
  if (!found) return absl::NotFoundError(absl::StrCat("topic '", name, "' does not exist"));
  std::sort(d.partitions.begin(), d.partitions.end(),
            [](const PartitionDescription& a, const PartitionDescription& b) { return a.partition < b.partition; });
  for (PartitionDescription& p : d.partitions) {
    EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_query_watermark_offsets(rk_.get(), d.name.c_str(), p.partition,
                                                                        &p.log_start_offset, &p.log_end_offset,
                                                                        timeout_ms_),
                                       absl::StrCat("offsets of ", d.name, "-", p.partition)));
  }
  EDDY_ASSIGN_OR_RETURN(d.configs, TopicConfigs(d.name));
  return d;
}

absl::StatusOr<OffsetAndTimestamp> KafkaAdmin::ListOffsets(const TopicPartition& tp, int64_t timestamp) {
  if (timestamp == kEarliestTimestamp || timestamp == kLatestTimestamp) {
    int64_t low = 0, high = 0;
    EDDY_RETURN_IF_ERROR(ErrorToStatus(
        rd_kafka_query_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition, &low, &high, timeout_ms_),
        absl::StrCat("offsets of ", ToString(tp))));
    return OffsetAndTimestamp{.offset = timestamp == kEarliestTimestamp ? low : high};
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = timestamp;
  EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_offsets_for_times(rk_.get(), list.get(), timeout_ms_),
                                     absl::StrCat("offset for time of ", ToString(tp))));
  EDDY_RETURN_IF_ERROR(ErrorToStatus(list->elems[0].err, absl::StrCat("offset for time of ", ToString(tp))));
  // librdkafka does not return the record's timestamp; Kafka answers -1 offset when there is none.
  return OffsetAndTimestamp{.offset = list->elems[0].offset < 0 ? -1 : list->elems[0].offset};
}

absl::StatusOr<std::vector<std::string>> KafkaAdmin::ListGroups() {
  const rd_kafka_group_list* groups = nullptr;
  EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_list_groups(rk_.get(), nullptr, &groups, timeout_ms_), "list groups"));
  std::vector<std::string> names;
  for (int i = 0; i < groups->group_cnt; ++i) names.emplace_back(groups->groups[i].group);
  rd_kafka_group_list_destroy(groups);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<GroupDescription> KafkaAdmin::DescribeGroup(absl::string_view group_id) {
  const std::string group(group_id);
  const rd_kafka_group_list* groups = nullptr;
  EDDY_RETURN_IF_ERROR(
      ErrorToStatus(rd_kafka_list_groups(rk_.get(), group.c_str(), &groups, timeout_ms_), "describe group"));
  GroupDescription d;
  d.group_id = group;
  std::map<TopicPartition, std::string> owners;
  absl::Status parsed;
  for (int i = 0; i < groups->group_cnt; ++i) {
    const rd_kafka_group_info& g = groups->groups[i];
    if (group != g.group) continue;
    d.state = g.state;
    d.protocol_type = g.protocol_type;
    d.protocol = g.protocol;
    for (int m = 0; m < g.member_cnt && parsed.ok(); ++m) {
      const rd_kafka_group_member_info& mi = g.members[m];
      GroupMemberDescription md{.member_id = mi.member_id, .client_id = mi.client_id, .client_host = mi.client_host};
      absl::StatusOr<std::vector<TopicPartition>> a = ParseConsumerAssignment(
          absl::string_view(static_cast<const char*>(mi.member_assignment), mi.member_assignment_size));
      if (!a.ok()) parsed = a.status();
      if (a.ok()) md.assignment = *std::move(a);
      for (const TopicPartition& tp : md.assignment) owners[tp] = md.member_id;
      d.members.push_back(std::move(md));
    }
  }
  rd_kafka_group_list_destroy(groups);
  EDDY_RETURN_IF_ERROR(parsed);

  // Ask for every partition explicitly: OffsetFetch's "all topics" (a null list) is not served by every
  // broker version.
  const rd_kafka_metadata_t* md = nullptr;
  EDDY_RETURN_IF_ERROR(ErrorToStatus(rd_kafka_metadata(rk_.get(), 1, nullptr, &md, timeout_ms_), "metadata"));
  PartitionListPtr all(rd_kafka_topic_partition_list_new(0));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || IsInternalTopic(t.topic)) continue;
    for (int p = 0; p < t.partition_cnt; ++p) rd_kafka_topic_partition_list_add(all.get(), t.topic, t.partitions[p].id);
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_ListConsumerGroupOffsets_t* req = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), all.get());
  absl::StatusOr<EventPtr> ev = RunAdmin("group offsets", [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
    rd_kafka_ListConsumerGroupOffsets(rk_.get(), &req, 1, o, q);
  });
  rd_kafka_ListConsumerGroupOffsets_destroy(req);
  if (!ev.ok()) return ev.status();
  std::map<TopicPartition, int64_t> committed;
  size_t n = 0;
  const rd_kafka_group_result_t** gr =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(gr[i])) {
      return ErrorToStatus(rd_kafka_error_code(e), "group offsets", rd_kafka_error_string(e));
    }
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(gr[i]);
    for (int p = 0; parts != nullptr && p < parts->cnt; ++p) {
      if (parts->elems[p].offset >= 0) committed[{parts->elems[p].topic, parts->elems[p].partition}] = parts->elems[p].offset;
    }
  }
  if (d.members.empty() && committed.empty() && (d.state.empty() || d.state == "Dead")) {
    return absl::NotFoundError(absl::StrCat("consumer group '", group, "' does not exist"));
  }
  std::map<TopicPartition, GroupPartitionOffset> rows;
  for (const auto& [tp, offset] : committed) rows[tp].committed_offset = offset;
  for (const auto& [tp, member] : owners) rows[tp].member_id = member;
  for (auto& [tp, row] : rows) {
    row.tp = tp;
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition, &low, &high, timeout_ms_) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      row.log_end_offset = high;
      if (row.committed_offset >= 0) row.lag = high - row.committed_offset;
    }
    d.offsets.push_back(row);
  }
  return d;
}

}  // namespace eddy::kafka_client
