// The consumer-group APIs, mapped onto the GroupCoordinator (broker/group_coordinator.h): JoinGroup (v0-5),
// SyncGroup (v0-3), Heartbeat (v0-3), LeaveGroup (v0-3), OffsetCommit (v2-7), OffsetFetch (v1-5),
// DescribeGroups (v0-4), ListGroups (v0-2). Each decodes the wire request into the coordinator's message
// (broker/group_messages.h), and encodes the coordinator's answer in its callback, which may run on the
// I/O thread at once or later on another thread (a rebalance completing, an offset commit becoming
// durable): the Responder takes the answer from either.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/group_coordinator.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/kafka_response.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;

// The state a coordinator callback needs to answer.
struct Reply {
  kafka::RequestHeader header;
  Responder responder;

  template <typename Body>
  void Send(const Body& body) {
    responder.Send(EncodeResponse(header, body));
  }
};

std::string ClientId(const kafka::RequestHeader& header) { return header.client_id.value_or(""); }

}  // namespace

void KafkaHandler::HandleJoinGroup(Call call, kafka::Reader& reader) {
  kafka::JoinGroupRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  broker::JoinGroupRequest r;
  r.group_id = std::move(request.group_id);
  r.member_id = std::move(request.member_id);
  r.group_instance_id = std::move(request.group_instance_id);
  r.client_id = ClientId(call.header);
  r.client_host = ClientHost(call.peer);
  r.session_timeout_ms = request.session_timeout_ms;
  // v0 has no rebalance timeout: the coordinator uses the session timeout (-1).
  r.rebalance_timeout_ms = call.header.request_api_version >= 1 ? request.rebalance_timeout_ms : -1;
  r.protocol_type = std::move(request.protocol_type);
  for (auto& p : request.protocols) r.protocols.push_back(broker::GroupProtocol{std::move(p.name), std::move(p.metadata)});
  r.require_known_member_id = call.header.request_api_version >= 4;
  broker_->coordinator().JoinGroup(
      std::move(r), [reply = Reply{call.header, std::move(call.responder)}](const broker::JoinGroupResponse& in) mutable {
        kafka::JoinGroupResponse out;
        out.error_code = Code(in.error);
        out.generation_id = in.generation_id;
        out.protocol_type = in.protocol_type;
        out.protocol_name = in.protocol_name;
        out.leader = in.leader;
        out.skip_assignment = in.skip_assignment;
        out.member_id = in.member_id;
        for (const broker::JoinGroupResponseMember& m : in.members) {
          kafka::JoinGroupResponse::JoinGroupResponseMember member;
          member.member_id = m.member_id;
          member.group_instance_id = m.group_instance_id;
          member.metadata = m.metadata;
          out.members.push_back(std::move(member));
        }
        reply.Send(out);
      });
}

void KafkaHandler::HandleSyncGroup(Call call, kafka::Reader& reader) {
  kafka::SyncGroupRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  broker::SyncGroupRequest r;
  r.group_id = std::move(request.group_id);
  r.generation_id = request.generation_id;
  r.member_id = std::move(request.member_id);
  r.group_instance_id = std::move(request.group_instance_id);
  r.protocol_type = std::move(request.protocol_type);
  r.protocol_name = std::move(request.protocol_name);
  for (auto& a : request.assignments) {
    r.assignments.push_back(broker::SyncGroupAssignment{std::move(a.member_id), std::move(a.assignment)});
  }
  broker_->coordinator().SyncGroup(
      std::move(r), [reply = Reply{call.header, std::move(call.responder)}](const broker::SyncGroupResponse& in) mutable {
        kafka::SyncGroupResponse out;
        out.error_code = Code(in.error);
        out.protocol_type = in.protocol_type;
        out.protocol_name = in.protocol_name;
        out.assignment = in.assignment;
        reply.Send(out);
      });
}

void KafkaHandler::HandleHeartbeat(Call call, kafka::Reader& reader) {
  kafka::HeartbeatRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  broker::HeartbeatRequest r;
  r.group_id = std::move(request.group_id);
  r.generation_id = request.generation_id;
  r.member_id = std::move(request.member_id);
  r.group_instance_id = std::move(request.group_instance_id);
  broker_->coordinator().Heartbeat(
      r, [reply = Reply{call.header, std::move(call.responder)}](const broker::HeartbeatResponse& in) mutable {
        kafka::HeartbeatResponse out;
        out.error_code = Code(in.error);
        reply.Send(out);
      });
}

void KafkaHandler::HandleLeaveGroup(Call call, kafka::Reader& reader) {
  kafka::LeaveGroupRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  const int16_t version = call.header.request_api_version;
  broker::LeaveGroupRequest r;
  r.group_id = std::move(request.group_id);
  if (version < 3) {
    r.members.push_back(broker::LeaveGroupMember{std::move(request.member_id), std::nullopt, std::nullopt});
  } else {
    for (auto& m : request.members) {
      r.members.push_back(broker::LeaveGroupMember{std::move(m.member_id), std::move(m.group_instance_id),
                                                   std::move(m.reason)});
    }
  }
  broker_->coordinator().LeaveGroup(
      r, [reply = Reply{call.header, std::move(call.responder)}, version](const broker::LeaveGroupResponse& in) mutable {
        kafka::LeaveGroupResponse out;
        out.error_code = Code(in.error);
        if (version < 3) {
          // One member, no member list on the wire: its error is the response's.
          if (in.error == ErrorCode::kNone && !in.members.empty()) out.error_code = Code(in.members[0].error);
        } else {
          for (const broker::LeaveGroupMemberResponse& m : in.members) {
            kafka::LeaveGroupResponse::MemberResponse member;
            member.member_id = m.member_id;
            member.group_instance_id = m.group_instance_id;
            member.error_code = Code(m.error);
            out.members.push_back(std::move(member));
          }
        }
        reply.Send(out);
      });
}

void KafkaHandler::HandleOffsetCommit(Call call, kafka::Reader& reader) {
  kafka::OffsetCommitRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  broker::OffsetCommitRequest r;
  r.group_id = std::move(request.group_id);
  r.generation_id = request.generation_id_or_member_epoch;
  r.member_id = std::move(request.member_id);
  r.group_instance_id = std::move(request.group_instance_id);
  for (auto& t : request.topics) {
    for (auto& p : t.partitions) {
      broker::OffsetCommitPartition part;
      part.topic = t.name;
      part.partition = p.partition_index;
      part.offset = p.committed_offset;
      part.leader_epoch = p.committed_leader_epoch;
      part.metadata = std::move(p.committed_metadata);
      r.partitions.push_back(std::move(part));
    }
  }
  broker_->coordinator().OffsetCommit(
      std::move(r), [reply = Reply{call.header, std::move(call.responder)}](const broker::OffsetCommitResponse& in) mutable {
        kafka::OffsetCommitResponse out;
        // In request order: a new topic entry whenever the topic changes.
        for (const broker::OffsetCommitPartitionResponse& p : in.partitions) {
          if (out.topics.empty() || out.topics.back().name != p.topic) {
            out.topics.emplace_back();
            out.topics.back().name = p.topic;
          }
          kafka::OffsetCommitResponse::OffsetCommitResponsePartition part;
          part.partition_index = p.partition;
          part.error_code = Code(p.error);
          out.topics.back().partitions.push_back(part);
        }
        reply.Send(out);
      });
}

void KafkaHandler::HandleOffsetFetch(Call call, kafka::Reader& reader) {
  kafka::OffsetFetchRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  const int16_t version = call.header.request_api_version;
  broker::OffsetFetchRequest r;
  r.group_id = std::move(request.group_id);
  if (request.topics.has_value()) {
    r.partitions.emplace();
    for (const auto& t : *request.topics) {
      for (int32_t p : t.partition_indexes) r.partitions->push_back(TopicPartition{t.name, p});
    }
  }
  // For v1's per-partition group errors: what was asked (empty when every partition was).
  std::vector<TopicPartition> asked = r.partitions.value_or(std::vector<TopicPartition>());
  broker_->coordinator().OffsetFetch(
      r, [reply = Reply{call.header, std::move(call.responder)}, version,
          asked = std::move(asked)](const broker::OffsetFetchResponse& in) mutable {
        kafka::OffsetFetchResponse out;
        out.error_code = Code(in.error);
        auto add = [&](const std::string& topic, int32_t partition, int64_t offset, int32_t epoch,
                       const std::string& metadata, ErrorCode error) {
          if (out.topics.empty() || out.topics.back().name != topic) {
            out.topics.emplace_back();
            out.topics.back().name = topic;
          }
          kafka::OffsetFetchResponse::OffsetFetchResponsePartition part;
          part.partition_index = partition;
          part.committed_offset = offset;
          part.committed_leader_epoch = epoch;
          part.metadata = metadata;
          part.error_code = Code(error);
          out.topics.back().partitions.push_back(std::move(part));
        };
        if (in.error != ErrorCode::kNone && version < 2) {
          // v1 has no group-level error: every partition asked for carries it.
          for (const TopicPartition& tp : asked) add(tp.topic, tp.partition, -1, -1, "", in.error);
        } else {
          for (const broker::OffsetFetchPartitionResponse& p : in.partitions) {
            add(p.topic, p.partition, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error);
          }
        }
        reply.Send(out);
      });
}

void KafkaHandler::HandleDescribeGroups(Call call, kafka::Reader& reader) {
  kafka::DescribeGroupsRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  // The coordinator may answer each group on another thread: collect them, answer when all are in.
  struct Pending {
    absl::Mutex mu;
    size_t left ABSL_GUARDED_BY(mu) = 0;
    kafka::DescribeGroupsResponse response ABSL_GUARDED_BY(mu);
    Reply reply;
  };
  auto pending = std::make_shared<Pending>();
  pending->reply = Reply{call.header, std::move(call.responder)};
  {
    absl::MutexLock lock(&pending->mu);
    pending->left = request.groups.size();
    pending->response.groups.resize(request.groups.size());
  }
  if (request.groups.empty()) {
    pending->reply.Send(kafka::DescribeGroupsResponse());
    return;
  }
  for (size_t i = 0; i < request.groups.size(); ++i) {
    broker_->coordinator().DescribeGroup(request.groups[i], [pending, i](const broker::DescribedGroup& in) {
      kafka::DescribeGroupsResponse done;
      {
        absl::MutexLock lock(&pending->mu);
        kafka::DescribeGroupsResponse::DescribedGroup& g = pending->response.groups[i];
        g.error_code = Code(in.error);
        g.group_id = in.group_id;
        g.group_state = in.state;
        g.protocol_type = in.protocol_type;
        g.protocol_data = in.protocol_data;
        for (const broker::DescribedGroupMember& m : in.members) {
          kafka::DescribeGroupsResponse::DescribedGroupMember member;
          member.member_id = m.member_id;
          member.group_instance_id = m.group_instance_id;
          member.client_id = m.client_id;
          member.client_host = m.client_host;
          member.member_metadata = m.metadata;
          member.member_assignment = m.assignment;
          g.members.push_back(std::move(member));
        }
        if (--pending->left > 0) return;
        done = std::move(pending->response);
      }
      pending->reply.Send(done);
    });
  }
}

void KafkaHandler::HandleListGroups(Call call, kafka::Reader& reader) {
  kafka::ListGroupsRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  broker_->coordinator().ListGroups(
      request.states_filter,
      [reply = Reply{call.header, std::move(call.responder)}](const broker::ListGroupsResponse& in) mutable {
        kafka::ListGroupsResponse out;
        out.error_code = Code(in.error);
        for (const broker::ListedGroup& g : in.groups) {
          kafka::ListGroupsResponse::ListedGroup group;
          group.group_id = g.group_id;
          group.protocol_type = g.protocol_type;
          group.group_state = g.state;
          out.groups.push_back(std::move(group));
        }
        reply.Send(out);
      });
}

}  // namespace eddy::net
