// KafkaHandler: answers Kafka protocol requests from the network layer (Server) with Eddy's broker core
// (BrokerImpl): the APIs and versions of broker/kafka/supported_apis.h, decoded and encoded with the
// codecs generated from Kafka's JSON schemas (eddy_kafka_codec).
//
// One method per API, spread over files by area: kafka_handler.cc (dispatch, ApiVersions, FindCoordinator,
// InitProducerId), kafka_metadata.cc (Metadata, CreateTopics, DeleteTopics, DescribeConfigs), kafka_produce.cc
// (Produce), kafka_fetch.cc (Fetch, ListOffsets; long polls park in a FetchPurgatory), kafka_groups.cc (the
// consumer-group APIs on the GroupCoordinator).
//
// Malformed input: a request whose header or body cannot be decoded, an unknown api key, or a version
// outside the advertised range (other than ApiVersions, which answers UNSUPPORTED_VERSION as Kafka does)
// closes the connection after one log line naming the peer and the reason, as Kafka's broker does.
// SASL and transaction requests are answered with Kafka's error codes (kafka_refused.cc).
//
// Thread model: thread-safe. Handle runs on the server's I/O threads and never blocks: appends are written
// inline (write(2) into the page cache), acks=all waits in LogManager::RequestFlush callbacks, long-poll
// fetches wait in the purgatory's thread, group requests complete in the coordinator's callbacks, and the
// requests that create or delete topics (CreateTopics, DeleteTopics, a Metadata request that auto-creates),
// which sync directories and files, run one at a time on the handler's admin thread.
// `broker` is not owned and must outlive the handler; the handler must outlive the Server using it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "broker/broker_impl.h"
#include "broker/kafka/frame.h"
#include "broker/net/request_handler.h"

namespace eddy::net {

class FetchPurgatory;
class SerialWorker;

struct KafkaHandlerOptions {
  // broker.id / node.id. Eddy is a single node: 0.
  int32_t node_id = 0;
  // The address clients are told to connect to (Metadata, FindCoordinator): Kafka's advertised.listeners.
  std::string advertised_host = "127.0.0.1";
  int32_t advertised_port = 9092;
  // auto.create.topics.enable: Metadata for an unknown topic creates it with num.partitions partitions
  // (the broker's setting). Kafka's default, true.
  bool auto_create_topics = true;
  // The cluster id reported in Metadata v2+.
  std::string cluster_id = "eddy-single-node-00000";
  // Broker configs reported by DescribeConfigs for the broker resource (name -> value), e.g. the
  // listener's socket.request.max.bytes. Topic configs come from the log.
  std::map<std::string, std::string> broker_configs;
  // Where refusals are logged, one line each. Default: stderr, prefixed "eddy: ".
  std::function<void(absl::string_view)> log;
  // Milliseconds since the epoch (producer ids, log append times). Default: the wall clock.
  std::function<int64_t()> now_ms;
  // Fetch responses send record batches straight from the segment files with sendfile(2) (true, the
  // default), or read them into memory first (false: the copying path, for comparison and for file
  // systems without sendfile; the connection also falls back to copying by itself when sendfile fails).
  bool zero_copy_fetch = true;
  // Tests: called on the admin thread before each request that creates or deletes topics is carried out
  // (to hold one there while the test checks that other requests are still answered).
  std::function<void()> before_topic_change;
};

class KafkaHandler final : public RequestHandler {
 public:
  KafkaHandler(broker::BrokerImpl* broker, KafkaHandlerOptions options);
  // Answers parked fetches and stops the purgatory thread.
  ~KafkaHandler() override;
  KafkaHandler(const KafkaHandler&) = delete;
  KafkaHandler& operator=(const KafkaHandler&) = delete;

  void Handle(const RequestContext& context, RequestFrame frame, Responder responder) override;
  // Answers parked fetches at once and shuts the group coordinator down (waiting JoinGroup/SyncGroup get
  // NOT_COORDINATOR, as when a Kafka coordinator moves), so the server's drain does not wait for them.
  void OnShutdown() override;

  // A decoded request on its way to an API method: the header, the reader positioned at the body, and the
  // frame that owns the bytes (record batches of a produce request are views into it, and are stamped in
  // place on append).
  struct Call {
    kafka::RequestHeader header;
    RequestFrame frame;
    std::string peer;
    Responder responder;
  };

 private:
  void Log(absl::string_view line) const;
  int64_t NowMs() const;
  // Logs "closing connection from PEER: WHY" and closes the connection after earlier responses.
  void Refuse(Call& call, absl::string_view why);
  // Decodes the body into *request; on failure refuses the call and returns false.
  template <typename Request>
  bool DecodeBody(Call& call, kafka::Reader& reader, Request* request);

  void HandleApiVersions(Call call, kafka::Reader& reader);
  void HandleMetadata(Call call, kafka::Reader& reader);
  void HandleProduce(Call call, kafka::Reader& reader);
  void HandleFetch(Call call, kafka::Reader& reader);
  void HandleListOffsets(Call call, kafka::Reader& reader);
  void HandleFindCoordinator(Call call, kafka::Reader& reader);
  void HandleInitProducerId(Call call, kafka::Reader& reader);
  void HandleCreateTopics(Call call, kafka::Reader& reader);
  void HandleDeleteTopics(Call call, kafka::Reader& reader);
  // Run `work` on the admin thread (after the before_topic_change hook).
  void RunOnAdminThread(absl::AnyInvocable<void() &&> work);
  // The admin-thread halves of the three: they may block on the disk.
  void AnswerMetadata(Call call, const kafka::MetadataRequest& request);
  void CreateTopics(Call call, const kafka::CreateTopicsRequest& request);
  void DeleteTopics(Call call, const kafka::DeleteTopicsRequest& request);
  void HandleDescribeConfigs(Call call, kafka::Reader& reader);
  void HandleJoinGroup(Call call, kafka::Reader& reader);
  void HandleSyncGroup(Call call, kafka::Reader& reader);
  void HandleHeartbeat(Call call, kafka::Reader& reader);
  void HandleLeaveGroup(Call call, kafka::Reader& reader);
  void HandleOffsetCommit(Call call, kafka::Reader& reader);
  void HandleOffsetFetch(Call call, kafka::Reader& reader);
  void HandleDescribeGroups(Call call, kafka::Reader& reader);
  void HandleListGroups(Call call, kafka::Reader& reader);
  // SASL and transaction apis (kafka::RefusedApis): Kafka's error codes (kafka_refused.cc).
  void HandleRefused(Call call, kafka::Reader& reader);

  broker::BrokerImpl* const broker_;
  const KafkaHandlerOptions options_;
  std::unique_ptr<FetchPurgatory> purgatory_;
  std::atomic<int64_t> next_producer_id_;
  // Declared last: destroyed first, after running what is queued (which uses the members above).
  std::unique_ptr<SerialWorker> admin_;
};

template <typename Request>
bool KafkaHandler::DecodeBody(Call& call, kafka::Reader& reader, Request* request) {
  absl::Status s = request->Decode(reader, call.header.request_api_version);
  if (s.ok()) return true;
  Refuse(call, absl::StrCat("malformed ", kafka::ApiName(call.header.request_api_key), " v",
                            call.header.request_api_version, " request: ", s.message()));
  return false;
}

}  // namespace eddy::net
