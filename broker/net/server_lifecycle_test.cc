// Tests of how connections and the server end: half-closed clients, Responder::Close, dropped or late
// answers, idle connections, shutdown with requests in flight, and a port already taken.
#include "broker/net/server.h"

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

TEST_F(ServerTest, HalfClosedClientStillGetsItsResponsesThenTheConnectionCloses) {
  StartServer();
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(0, kInline)));
  ASSERT_TRUE(c.WriteFrame(Request(1, kHold)));
  ASSERT_TRUE(c.WriteFrame(Request(2, kInline)));
  c.ShutdownWrite();
  handler_.AwaitHeld(1);
  std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
  held[0].second.Send(Response(BigEndian32(1)));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ReadId(c), i);
  EXPECT_TRUE(c.AtEof());
}

TEST_F(ServerTest, HalfClosedClientGetsAnswersToFramesThatWaitedForBackPressure) {
  ServerOptions options;
  options.max_in_flight_requests_per_connection = 2;
  StartServer(options);
  TestClient c = Connect();
  std::string all;
  for (int i = 0; i < 5; ++i) {
    const std::string r = Request(i, kHold);
    all += BigEndian32(static_cast<int32_t>(r.size())) + r;
  }
  ASSERT_TRUE(c.WriteRaw(all));  // one segment: all five frames land in the read buffer together
  c.ShutdownWrite();
  for (int answered = 0; answered < 5;) {
    handler_.AwaitHeld(static_cast<size_t>(std::min(2, 5 - answered)));
    for (auto& [id, r] : handler_.TakeHeld()) {
      r.Send(Response(BigEndian32(id)));
      ASSERT_EQ(ReadId(c), answered++);
    }
  }
  EXPECT_TRUE(c.AtEof());
}

TEST_F(ServerTest, ResponderCloseWritesEarlierResponsesThenCloses) {
  StartServer();
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(0, kHold)));
  ASSERT_TRUE(c.WriteFrame(Request(1, kClose)));
  handler_.AwaitHeld(1);
  std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
  held[0].second.Send(Response(BigEndian32(0)));
  EXPECT_EQ(ReadId(c), 0);
  EXPECT_TRUE(c.AtEof());
}

TEST_F(ServerTest, DroppedResponderClosesTheConnectionWithALogLine) {
  StartServer();
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(0, kDrop)));
  EXPECT_TRUE(c.AtEof());
  std::vector<std::string> lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], "dropped without a response")) << lines[0];
}

TEST_F(ServerTest, ResponseCompletedAfterTheConnectionClosedIsDropped) {
  StartServer();
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(0, kHold)));
  handler_.AwaitHeld(1);
  Responder late = std::move(handler_.TakeHeld()[0].second);
  ASSERT_TRUE(c.WriteRaw(BigEndian32(-1)));  // the server closes the connection at once
  EXPECT_TRUE(c.AtEof());
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections_open == 0; }));
  late.Send(Response(BigEndian32(0)));  // no crash, nothing written
  EXPECT_EQ(server_->stats().responses, 0);
}

TEST_F(ServerTest, ClientThatLeavesWithARequestInFlightIsClosedOnceItIsAnswered) {
  StartServer();
  Responder late;
  {
    TestClient c = Connect();
    ASSERT_TRUE(c.WriteFrame(Request(0, kHold)));
    handler_.AwaitHeld(1);
    late = std::move(handler_.TakeHeld()[0].second);
  }
  // The server cannot tell a close from a half-close (shutdown(SHUT_WR)) until it writes: it keeps the
  // connection until the answer is written, then closes it.
  late.Send(Response(BigEndian32(0)));
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(ServerTest, IdleConnectionIsClosedAfterConnectionsMaxIdleMs) {
  ServerOptions options;
  options.connections_max_idle_ms = 50;
  StartServer(options);
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(0, kInline)));
  ASSERT_EQ(ReadId(c), 0);
  EXPECT_TRUE(c.AtEof());
  EXPECT_TRUE(absl::StrContains(log_.lines().at(0), "connections.max.idle.ms")) << log_.lines().at(0);
}

TEST_F(ServerTest, ShutdownAnswersInFlightRequestsBeforeClosing) {
  StartServer();
  TestClient a = Connect();
  TestClient b = Connect();
  ASSERT_TRUE(a.WriteFrame(Request(0, kInline)));
  ASSERT_TRUE(a.WriteFrame(Request(1, kHold)));
  ASSERT_TRUE(b.WriteFrame(Request(2, kHold)));
  handler_.AwaitHeld(2);
  std::thread shutdown([&] { server_->Shutdown(); });
  // The handler is told, and completes its parked requests from another thread.
  handler_.AwaitShutdownCalled();
  std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
  std::thread completer([&] {
    for (auto& [id, r] : held) r.Send(Response(BigEndian32(id)));
  });
  EXPECT_EQ(ReadId(a), 0);
  EXPECT_EQ(ReadId(a), 1);
  EXPECT_EQ(ReadId(b), 2);
  EXPECT_TRUE(a.AtEof());
  EXPECT_TRUE(b.AtEof());
  completer.join();
  shutdown.join();
  EXPECT_EQ(server_->stats().connections_open, 0);
  // No longer accepting.
  TestClient late;
  EXPECT_FALSE(late.Connect(server_->port()) && !late.AtEof());
}

TEST_F(ServerTest, ShutdownGivesUpOnUnansweredRequestsAfterTheTimeout) {
  ServerOptions options;
  options.shutdown_timeout = absl::Milliseconds(100);
  StartServer(options);
  TestClient c = Connect();
  ASSERT_TRUE(c.WriteFrame(Request(0, kHold)));
  handler_.AwaitHeld(1);
  server_->Shutdown();
  EXPECT_TRUE(c.AtEof());
  // The late answer goes nowhere, safely, even after the server is destroyed.
  std::vector<std::pair<int32_t, Responder>> held = handler_.TakeHeld();
  server_.reset();
  held[0].second.Send(Response(BigEndian32(0)));
}

TEST_F(ServerTest, StartFailsWhenThePortIsTaken) {
  StartServer();
  ServerOptions options;
  options.port = server_->port();
  absl::StatusOr<std::unique_ptr<Server>> second = Server::Start(options, &handler_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

}  // namespace
}  // namespace eddy::net::testing
