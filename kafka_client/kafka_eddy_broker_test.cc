// The librdkafka-backed consumer against Eddy's own Kafka server (what `eddy broker` runs, in process on a
// free loopback port): commit metadata round-trips through OffsetCommit and OffsetFetch, as the Streams
// runtime needs to restore partition times.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_impl.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/server.h"
#include "eddy/kafka_client/kafka_client.h"
#include "gtest/gtest.h"

namespace eddy::kafka_client {
namespace {

#define ASSERT_OK(expr)                 \
  do {                                  \
    const absl::Status s_ = (expr);     \
    ASSERT_TRUE(s_.ok()) << s_;         \
  } while (0)

// A port the kernel reports free (the server advertises the port it listens on, so it must know it first).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

class EddyBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / absl::StrCat("eddy-kc-broker-", getpid())).string();
    std::filesystem::remove_all(dir_);
    absl::StatusOr<std::unique_ptr<broker::BrokerImpl>> b =
        broker::BrokerImpl::Open(BrokerOptions{dir_, {{"num.partitions", "2"}}});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = *std::move(b);
    const int port = FreePort();
    ASSERT_GT(port, 0);
    net::KafkaHandlerOptions options;
    options.advertised_port = port;
    options.log = [](absl::string_view) {};
    handler_ = std::make_unique<net::KafkaHandler>(broker_.get(), options);
    net::ServerOptions server_options;
    server_options.port = port;
    server_options.log = options.log;
    absl::StatusOr<std::unique_ptr<net::Server>> s = net::Server::Start(server_options, handler_.get());
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    kafka_ = {{"bootstrap.servers", absl::StrCat("127.0.0.1:", port)}};
  }
  void TearDown() override {
    server_.reset();
    handler_.reset();
    if (broker_ != nullptr) {
      EXPECT_TRUE(broker_->Close().ok());
    }
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<broker::BrokerImpl> broker_;
  std::unique_ptr<net::KafkaHandler> handler_;
  std::unique_ptr<net::Server> server_;
  KafkaConfigs kafka_;
};

TEST_F(EddyBrokerTest, CommitMetadataRoundTripsThroughTheKafkaProtocol) {
  ASSERT_OK(broker_->admin().CreateTopic({.name = "t", .partitions = 2}));
  ConsumerConfig config;
  config.group_id = "g";
  config.enable_auto_commit = false;
  absl::StatusOr<std::unique_ptr<Consumer>> consumer = NewKafkaConsumer(config, kafka_);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_OK((*consumer)->Assign({{"t", 0}, {"t", 1}}));
  ASSERT_OK((*consumer)->CommitSync({{.tp = {"t", 1}, .offset = 0, .metadata = "1705312800000"}}));
  absl::StatusOr<std::vector<TopicPartitionOffset>> committed = (*consumer)->CommittedOffsets({{"t", 0}, {"t", 1}});
  ASSERT_TRUE(committed.ok()) << committed.status();
  ASSERT_EQ(committed->size(), 1u) << "partition 0 has no commit";
  EXPECT_EQ((*committed)[0].tp, (TopicPartition{"t", 1}));
  EXPECT_EQ((*committed)[0].offset, 0);
  EXPECT_EQ((*committed)[0].metadata, "1705312800000");
  ASSERT_OK((*consumer)->Close());
}

}  // namespace
}  // namespace eddy::kafka_client
