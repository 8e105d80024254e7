// Tests of the network layer's transport (Server, Connection, IoThread) with a test handler: ordering of
// pipelined responses, requests answered with nothing (acks=0), frame limits, max.connections, many
// connections, large responses and back-pressure.
#include "broker/net/server.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/net/server_test_util.h"
#include "gtest/gtest.h"

namespace eddy::net::testing {
namespace {

TEST_F(ServerTest, InlineResponseEchoesPayload) {
  StartServer();
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(7, kInline, "hello")));
  std::string payload;
  EXPECT_EQ(ReadId(c, &payload), 7);
  EXPECT_EQ(payload, "hello");
  EXPECT_TRUE(absl::StartsWith(handler_.last_peer(), "127.0.0.1:"));
}

TEST_F(ServerTest, PipelinedResponsesArriveInRequestOrderWhenCompletedOutOfOrderOnOtherThreads) {
  StartServer();
  TestClient c = Connect();
  constexpr int kRequests = 100;  // == max_in_flight_requests_per_connection's default
  std::string all;
  for (int i = 0; i < kRequests; ++i) {
    const std::string r = Request(i, kHold, absl::StrCat("p", i % 10));
    all += BigEndian32(static_cast<int32_t>(r.size())) + r;
  }
  ASSERT_TRUE(c.WriteRaw(all));  // one write: the server cuts many frames from one read
  handler_.AwaitHeld(kRequests);
  std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
  std::mt19937 rng(42);
  std::shuffle(held.begin(), held.end(), rng);
  // Four threads complete them in the shuffled order, interleaved.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < held.size(); i += 4) {
        const int32_t id = held[i].first;
        held[i].second.Send(Response(BigEndian32(id) + handler_.HeldPayload(id)));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kRequests; ++i) {
    std::string payload;
    ASSERT_EQ(ReadId(c, &payload), i);
    EXPECT_EQ(payload, absl::StrCat("p", i % 10));
  }
}

TEST_F(ServerTest, InlineAndDeferredResponsesInterleaveInRequestOrder) {
  StartServer();
  TestClient c = Connect();
  // 0 held, 1 inline, 2 held, 3 inline: the inline answers wait behind the held ones.
  ASSERT_TRUE(c.WriteFrame(Request(0, kHold)));
  ASSERT_TRUE(c.WriteFrame(Request(1, kInline)));
  ASSERT_TRUE(c.WriteFrame(Request(2, kHold)));
  ASSERT_TRUE(c.WriteFrame(Request(3, kInline)));
  handler_.AwaitHeld(2);
  ASSERT_TRUE(Eventually([&] { return handler_.handled() == 4; }));
  std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
  held[1].second.Send(Response(BigEndian32(2)));  // request 2 first
  held[0].second.Send(Response(BigEndian32(0)));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ReadId(c), i);
}

TEST_F(ServerTest, RequestAnsweredWithNothingKeepsItsPlaceInThePipeline) {
  StartServer();
  TestClient c = Connect();
  std::string all;
  for (int i = 0; i < 10; ++i) {
    const std::string r = Request(i, i == 5 ? kNothing : (i % 2 == 0 ? kHold : kInline));
    all += BigEndian32(static_cast<int32_t>(r.size())) + r;
  }
  ASSERT_TRUE(c.WriteRaw(all));
  handler_.AwaitHeld(5);  // 0, 2, 4, 6, 8
  std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
  std::reverse(held.begin(), held.end());
  for (auto& [id, r] : held) r.Send(Response(BigEndian32(id)));
  for (int i : {0, 1, 2, 3, 4, 6, 7, 8, 9}) EXPECT_EQ(ReadId(c), i);
  // Nothing more: the next response is to the next request.
  ASSERT_TRUE(c.WriteFrame(Request(10, kInline)));
  EXPECT_EQ(ReadId(c), 10);
}

TEST_F(ServerTest, NegativeFrameSizeClosesOnlyThatConnectionAndIsLogged) {
  StartServer();
  TestClient good = Connect();
  ASSERT_TRUE(good.WriteFrame(Request(1, kInline)));
  ASSERT_EQ(ReadId(good), 1);

  TestClient bad = Connect();
  ASSERT_TRUE(bad.WriteRaw(BigEndian32(-5)));
  EXPECT_TRUE(bad.AtEof());
  EXPECT_EQ(server_->stats().frames_refused, 1);
  std::vector<std::string> lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], "127.0.0.1:")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[0], "negative size -5")) << lines[0];

  // The other connection, and new ones, are unaffected.
  ASSERT_TRUE(good.WriteFrame(Request(2, kInline)));
  EXPECT_EQ(ReadId(good), 2);
  TestClient after = Connect();
  ASSERT_TRUE(after.WriteFrame(Request(3, kInline)));
  EXPECT_EQ(ReadId(after), 3);
}

TEST_F(ServerTest, FrameAboveMaxRequestBytesIsRefusedBeforeItsBodyArrives) {
  ServerOptions options;
  options.max_request_bytes = 1 << 20;
  StartServer(options);
  TestClient good = Connect();
  TestClient bad = Connect();
  // Only the size is sent: the server must refuse on the size alone, not wait for (or allocate) 2 GiB.
  ASSERT_TRUE(bad.WriteRaw(BigEndian32(0x7fffffff)));
  EXPECT_TRUE(bad.AtEof());
  const ServerStats stats = server_->stats();
  EXPECT_EQ(stats.frames_refused, 1);
  EXPECT_EQ(stats.requests, 0);
  std::vector<std::string> lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], "2147483647 bytes exceeds socket.request.max.bytes (1048576)")) << lines[0];
  ASSERT_TRUE(good.WriteFrame(Request(1, kInline)));
  EXPECT_EQ(ReadId(good), 1);
}

TEST_F(ServerTest, FrameOfExactlyMaxRequestBytesIsServedAndEchoed) {
  ServerOptions options;
  options.max_request_bytes = 1 << 20;
  StartServer(options);
  TestClient c = Connect();
  const std::string payload = Pattern((1 << 20) - 5, 3);
  ASSERT_TRUE(c.WriteFrame(Request(9, kInline, payload)));
  std::string echoed;
  ASSERT_EQ(ReadId(c, &echoed), 9);
  EXPECT_EQ(echoed, payload);
  EXPECT_EQ(server_->stats().frames_refused, 0);
}

TEST_F(ServerTest, LargeMultiPartResponsesArriveIntactAndInOrder) {
  StartServer();
  TestClient c = Connect();
  // Responses far larger than the socket buffer: written over many partial sendmsg calls.
  const int32_t sizes[] = {8 << 20, 3, 1 << 20, 0, 5 << 20};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.WriteFrame(Request(i, kBig, BigEndian32(sizes[i]))));
  for (int i = 0; i < 5; ++i) {
    std::string payload;
    ASSERT_EQ(ReadId(c, &payload), i);
    EXPECT_EQ(payload, Pattern(static_cast<size_t>(sizes[i]), i)) << i;
  }
}

// A file that deletes itself and closes its descriptor when the last FileRange owner lets go.
struct TempFile {
  explicit TempFile(const std::string& contents) {
    char path[] = "/tmp/eddy-sendfile-XXXXXX";
    fd = mkstemp(path);
    unlink(path);
    EXPECT_EQ(write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
  }
  ~TempFile() { close(fd); }
  int fd;
};

std::string FileRequestPayload(int64_t offset, int64_t length) {
  return BigEndian32(static_cast<int32_t>(offset >> 32)) + BigEndian32(static_cast<int32_t>(offset)) +
         BigEndian32(static_cast<int32_t>(length >> 32)) + BigEndian32(static_cast<int32_t>(length));
}

TEST_F(ServerTest, FileRangesAreSentWithSendfileBetweenByteParts) {
  StartServer();
  const std::string contents = Pattern(12 << 20, 3);
  auto file = std::make_shared<TempFile>(contents);
  handler_.SetFile(file, file->fd);
  file.reset();  // the handler's reference (and each response's) keeps it open
  TestClient c = Connect();
  // Far larger than the socket buffer (many partial sendfile calls), small, and pipelined with others.
  const std::pair<int64_t, int64_t> ranges[] = {{0, 12 << 20}, {5, 1}, {1 << 20, 3 << 20}};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.WriteFrame(Request(i, kFile, FileRequestPayload(ranges[i].first, ranges[i].second))));
    ASSERT_TRUE(c.WriteFrame(Request(10 + i, kInline, "between")));
  }
  for (int i = 0; i < 3; ++i) {
    std::string payload;
    ASSERT_EQ(ReadId(c, &payload), i);
    const absl::string_view range = absl::string_view(contents).substr(ranges[i].first, ranges[i].second);
    EXPECT_TRUE(payload == absl::StrCat("<", range, ">")) << i;
    ASSERT_EQ(ReadId(c, &payload), 10 + i);
    EXPECT_EQ(payload, "between");
  }
}

TEST_F(ServerTest, FileRangePastTheEndOfTheFileClosesTheConnectionWithALogLine) {
  StartServer();
  auto file = std::make_shared<TempFile>("short");
  handler_.SetFile(file, file->fd);
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(1, kFile, FileRequestPayload(0, 100))));
  // The client gets the bytes that exist at most, never a complete-looking response.
  std::string payload;
  EXPECT_NE(ReadId(c, &payload), 1);
  std::vector<std::string> lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], "cannot send record data from a log segment")) << lines[0];
}

TEST_F(ServerTest, ResponseWithItsOwnSizePrefixIsWrittenAsIs) {
  StartServer();
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(1, kPrefixed, "framed")));
  ASSERT_TRUE(c.WriteFrame(Request(2, kInline, "plain")));
  std::string payload;
  EXPECT_EQ(ReadId(c, &payload), 1);
  EXPECT_EQ(payload, "framed");
  EXPECT_EQ(ReadId(c, &payload), 2);
  EXPECT_EQ(payload, "plain");
}

TEST_F(ServerTest, MaxConnectionsRefusesTheExtraConnectionWithALogLine) {
  ServerOptions options;
  options.max_connections = 3;
  StartServer(options);
  std::vector<TestClient> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(clients.back().WriteFrame(Request(i, kInline)));
    ASSERT_EQ(ReadId(clients.back()), i);
  }
  TestClient extra = Connect();  // the kernel completes the handshake; the server closes it at accept
  EXPECT_TRUE(extra.AtEof());
  EXPECT_EQ(server_->stats().connections_refused, 1);
  std::vector<std::string> lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], "max.connections (3)")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[0], "127.0.0.1:")) << lines[0];

  // Once one closes, a new connection is served.
  clients[0].Close();
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections_open == 2; }));
  TestClient next = Connect();
  ASSERT_TRUE(next.WriteFrame(Request(10, kInline)));
  EXPECT_EQ(ReadId(next), 10);
}

TEST_F(ServerTest, TwoHundredConnectionsAreServedByTwoIoThreads) {
  ServerOptions options;
  options.io_threads = 2;
  StartServer(options);
  constexpr int kConnections = 200;
  constexpr int kPerConnection = 5;
  std::vector<TestClient> clients(kConnections);
  for (int i = 0; i < kConnections; ++i) ASSERT_TRUE(clients[i].Connect(server_->port()));
  for (int i = 0; i < kConnections; ++i) {
    for (int j = 0; j < kPerConnection; ++j) {
      ASSERT_TRUE(clients[i].WriteFrame(Request(i * 100 + j, kInline, std::to_string(i))));
    }
  }
  for (int i = 0; i < kConnections; ++i) {
    for (int j = 0; j < kPerConnection; ++j) {
      std::string payload;
      ASSERT_EQ(ReadId(clients[i], &payload), i * 100 + j);
      ASSERT_EQ(payload, std::to_string(i));
    }
  }
  const ServerStats stats = server_->stats();
  EXPECT_EQ(stats.connections_accepted, kConnections);
  EXPECT_EQ(stats.requests, kConnections * kPerConnection);
}

TEST_F(ServerTest, ALargeRequestIsAnsweredBeforeTheRequestsPipelinedBehindItAreRead) {
  StartServer();
  TestClient c;
  ASSERT_TRUE(c.Connect(server_->port(), /*timeout_seconds=*/5));
  // Request 0 holds the I/O thread until 1 (more than one event's dispatch budget, 256 KiB) and 2 are both
  // in the socket. 2 then holds the thread until the client has read 1's response: a server that reads 2
  // in the same event as 1 writes that response only after 2 is done, and the read below times out.
  ASSERT_TRUE(c.WriteFrame(Request(0, kWait)));
  ASSERT_TRUE(Eventually([&] { return handler_.handled() == 1; }));
  const std::string big = Pattern(300 * 1024, 1);
  std::thread writer([&] {
    EXPECT_TRUE(c.WriteFrame(Request(1, kInline, big)));
    EXPECT_TRUE(c.WriteFrame(Request(2, kWait)));
  });
  writer.join();
  handler_.Open(0);
  EXPECT_EQ(ReadId(c), 0);
  std::string payload;
  EXPECT_EQ(ReadId(c, &payload), 1);
  EXPECT_EQ(payload, big);
  handler_.Open(2);
  EXPECT_EQ(ReadId(c), 2);
}

TEST_F(ServerTest, ConnectionIsNotReadBeyondMaxInFlightRequests) {
  ServerOptions options;
  options.max_in_flight_requests_per_connection = 4;
  StartServer(options);
  TestClient c = Connect();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.WriteFrame(Request(i, kHold)));
  int answered = 0;
  while (answered < 10) {
    const size_t expect = std::min(4, 10 - answered);
    handler_.AwaitHeld(expect);
    // The server holds at most 4 unanswered requests: the rest wait in the socket. (A sleep can only let
    // a wrongly read 5th request arrive; it cannot make a correct server fail.)
    absl::SleepFor(absl::Milliseconds(20));
    std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
    ASSERT_EQ(held.size(), expect);
    for (auto& [id, r] : held) r.Send(Response(BigEndian32(id)));
    for (size_t k = 0; k < expect; ++k) ASSERT_EQ(ReadId(c), answered++);
  }
}

}  // namespace
}  // namespace eddy::net::testing
