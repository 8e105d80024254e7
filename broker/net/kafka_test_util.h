// Test fixture for the Kafka API handlers: a BrokerImpl on a temporary data directory, a KafkaHandler and a
// Server on a free loopback port, and a blocking client that sends generated request structs and decodes
// the responses with the same generated codecs. Header-only, for broker/net/kafka_*_test.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/broker_impl.h"
#include "broker/kafka/frame.h"
#include "broker/log_test_util.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/server.h"
#include "broker/net/test_client.h"
#include "gtest/gtest.h"

namespace eddy::net::testing {

// A TestClient that speaks the generated codecs.
class KafkaClient {
 public:
  bool Connect(int port) { return client_.Connect(port); }
  TestClient& raw() { return client_; }

  // Sends `body` at `version`; returns the correlation id used.
  template <typename Request>
  int32_t Send(int16_t version, const Request& body, std::string client_id = "eddy-test") {
    kafka::RequestHeader header;
    header.request_api_key = Request::kApiKey;
    header.request_api_version = version;
    header.correlation_id = next_correlation_id_++;
    header.client_id = std::move(client_id);
    std::string out;
    kafka::Writer writer(&out);
    kafka::EncodeRequestFrame(header, body, writer);
    EXPECT_TRUE(client_.WriteRaw(out));
    return header.correlation_id;
  }

  // Reads the next response, checks its correlation id, decodes it at `version`. `raw_body` (if given)
  // receives the response body bytes (records in a fetch response are views into it).
  template <typename Response>
  Response Receive(int16_t version, int32_t correlation_id, std::string* raw_body = nullptr) {
    Response response;
    std::optional<std::string> frame = client_.ReadFrame();
    EXPECT_TRUE(frame.has_value()) << "no response (connection closed or timed out)";
    if (!frame.has_value()) return response;
    std::string* keep = raw_body != nullptr ? raw_body : &last_frame_;
    *keep = std::move(*frame);
    kafka::Reader reader(*keep);
    kafka::ResponseHeader header;
    EXPECT_TRUE(header.Decode(reader, kafka::ResponseHeaderVersion(Response::kApiKey, version)).ok());
    EXPECT_EQ(header.correlation_id, correlation_id);
    absl::Status s = response.Decode(reader, version);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(reader.remaining(), 0u);
    return response;
  }

  template <typename Response, typename Request>
  Response Call(int16_t version, const Request& body) {
    const int32_t id = Send(version, body);
    return Receive<Response>(version, id);
  }

 private:
  TestClient client_;
  int32_t next_correlation_id_ = 1;
  std::string last_frame_;
};

class KafkaServerTest : public ::testing::Test {
 protected:
  static constexpr int32_t kAdvertisedPort = 19092;

  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start(std::map<std::string, std::string> configs = {{"num.partitions", "3"}},
             bool auto_create_topics = true) {
    absl::StatusOr<std::unique_ptr<broker::BrokerImpl>> b = broker::BrokerImpl::Open(BrokerOptions{dir_.path(), configs});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = *std::move(b);
    KafkaHandlerOptions options;
    options.advertised_host = "127.0.0.1";
    options.advertised_port = kAdvertisedPort;
    options.auto_create_topics = auto_create_topics;
    options.broker_configs = {{"auto.create.topics.enable", auto_create_topics ? "true" : "false"}};
    options.now_ms = now_ms_;
    options.zero_copy_fetch = zero_copy_fetch_;
    options.before_topic_change = before_topic_change_;
    options.log = [this](absl::string_view line) {
      absl::MutexLock lock(&log_mu_);
      log_.emplace_back(line);
    };
    handler_ = std::make_unique<KafkaHandler>(broker_.get(), options);
    ServerOptions server_options;
    server_options.port = 0;
    server_options.io_threads = io_threads_;
    server_options.log = options.log;
    absl::StatusOr<std::unique_ptr<Server>> s = Server::Start(server_options, handler_.get());
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  void Stop() {
    server_.reset();
    handler_.reset();
    if (broker_ != nullptr) {
      EXPECT_TRUE(broker_->Close().ok());
    }
    broker_.reset();
  }

  std::unique_ptr<KafkaClient> Connect() {
    auto c = std::make_unique<KafkaClient>();
    EXPECT_TRUE(c->Connect(server_->port()));
    return c;
  }

  std::vector<std::string> log() {
    absl::MutexLock lock(&log_mu_);
    return log_;
  }

  // Options for the next Start: the handler's clock (unset: the wall clock), fetch path and admin-thread
  // hook, and the server's I/O threads.
  std::function<int64_t()> now_ms_;
  bool zero_copy_fetch_ = true;
  std::function<void()> before_topic_change_;
  int io_threads_ = 2;

  broker::testing_util::TempDir dir_;
  std::unique_ptr<broker::BrokerImpl> broker_;
  std::unique_ptr<KafkaHandler> handler_;
  std::unique_ptr<Server> server_;
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

}  // namespace eddy::net::testing
