// eddy broker: runs the broker as a server that speaks the Kafka protocol, so kcat, librdkafka, kafka-python,
// confluent-kafka and kafkajs work against it unchanged. Opens the data directory (recovering it after an
// unclean shutdown), listens, prints one line when it accepts connections, and shuts down cleanly on
// SIGTERM or SIGINT: in-flight requests are answered, the log is flushed and marked clean, so the next start
// skips recovery. Exit code 0 after a clean shutdown.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/broker_impl.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/server.h"
#include "broker/net/socket_util.h"
#include "cli/common.h"
#include "eddy/core/status.h"

namespace eddy::cli {
namespace {

constexpr char kDescription[] =
    "Serves the data directory over the Kafka protocol (node id 0), so existing Kafka clients work\n"
    "against it: point them at the listen address. Prints one line when it is ready; SIGTERM or SIGINT\n"
    "shut it down cleanly.\n"
    "\n"
    "Configs (--config, Kafka's names and defaults):\n"
    "  auto.create.topics.enable=true   Metadata for an unknown topic creates it\n"
    "  num.partitions=1                 partitions of auto-created topics\n"
    "  socket.request.max.bytes=104857600, max.connections, connections.max.idle.ms=600000,\n"
    "  num.network.threads=2, advertised.listeners=HOST:PORT (default: the listen address),\n"
    "  and the broker's log and group settings (log.retention.ms, log.segment.bytes, message.max.bytes,\n"
    "  group.initial.rebalance.delay.ms, ...).";

// The listener's and handler's settings, taken out of the configs; the rest go to the broker core.
struct ServeConfig {
  net::ServerOptions server;
  net::KafkaHandlerOptions handler;
  std::string advertised;
};

absl::Status ParseInt(const std::string& key, const std::string& value, int64_t min, int64_t max, int64_t* out) {
  if (!absl::SimpleAtoi(value, out) || *out < min || *out > max) {
    return absl::InvalidArgumentError(absl::StrCat("invalid value for ", key, ": '", value, "'"));
  }
  return absl::OkStatus();
}

absl::Status TakeServeConfigs(std::map<std::string, std::string>* configs, ServeConfig* out) {
  for (auto it = configs->begin(); it != configs->end();) {
    const std::string& key = it->first;
    const std::string& value = it->second;
    int64_t v = 0;
    if (key == "socket.request.max.bytes") {
      EDDY_RETURN_IF_ERROR(ParseInt(key, value, 1, INT32_MAX, &v));
      out->server.max_request_bytes = static_cast<int32_t>(v);
    } else if (key == "max.connections") {
      EDDY_RETURN_IF_ERROR(ParseInt(key, value, 0, INT32_MAX, &v));
      out->server.max_connections = static_cast<int32_t>(v);
    } else if (key == "connections.max.idle.ms") {
      EDDY_RETURN_IF_ERROR(ParseInt(key, value, -1, INT64_MAX, &v));
      out->server.connections_max_idle_ms = v;
    } else if (key == "num.network.threads") {
      EDDY_RETURN_IF_ERROR(ParseInt(key, value, 1, 64, &v));
      out->server.io_threads = static_cast<int>(v);
    } else if (key == "auto.create.topics.enable") {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat("invalid value for ", key, ": '", value, "' (true or false)"));
      }
      out->handler.auto_create_topics = value == "true";
    } else if (key == "advertised.listeners") {
      out->advertised = value;
    } else {
      ++it;
      continue;
    }
    out->handler.broker_configs[key] = value;
    it = configs->erase(it);
  }
  return absl::OkStatus();
}

bool IsWildcard(const std::string& host) { return host == "0.0.0.0" || host == "::" || host.empty(); }

}  // namespace

absl::Status RunBroker(Args args) {
  std::string data_dir = kDefaultDataDir;
  std::string listen = "127.0.0.1:9092";
  std::vector<std::string> config_list;
  FlagSet flags("eddy broker [--listen HOST:PORT] [--config k=v ...] [--data-dir DIR]", kDescription);
  AddDataDirFlag(&flags, &data_dir);
  flags.AddString("listen", &listen, "HOST:PORT", "address to accept connections on; port 0 picks a free one");
  flags.AddList("config", &config_list, "k=v", "a broker config (repeatable)");
  std::vector<std::string> positional;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 0, &positional, &help));
  if (help) return absl::OkStatus();

  EDDY_ASSIGN_OR_RETURN(net::HostPort address, net::ParseHostPort(listen));
  std::map<std::string, std::string> configs;
  for (const std::string& kv : config_list) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--config expects key=value, got '", kv, "'"));
    }
    configs[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  ServeConfig serve;
  EDDY_RETURN_IF_ERROR(TakeServeConfigs(&configs, &serve));
  serve.server.host = address.host;
  serve.server.port = address.port;

  // SIGINT and SIGTERM are blocked in this thread before any other starts (threads inherit the mask), then
  // taken with sigwait below: no handler runs on a thread that holds a lock.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
  signal(SIGPIPE, SIG_IGN);
  struct RestoreMask {
    sigset_t mask;
    ~RestoreMask() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{old_mask};

  absl::StatusOr<std::unique_ptr<broker::BrokerImpl>> opened =
      broker::BrokerImpl::Open(BrokerOptions{data_dir, configs});
  if (!opened.ok()) return Annotate(opened.status(), absl::StrCat("cannot open data directory '", data_dir, "'"));
  std::unique_ptr<broker::BrokerImpl> broker = *std::move(opened);

  // Bind first: with port 0 the kernel picks the port, which the handler must advertise.
  EDDY_ASSIGN_OR_RETURN(int listen_fd, net::OpenListenSocket(address, serve.server.backlog));
  absl::StatusOr<int> port = net::BoundPort(listen_fd);
  if (!port.ok()) {
    close(listen_fd);
    return port.status();
  }
  serve.server.listen_fd = listen_fd;
  serve.handler.advertised_host = address.host;
  serve.handler.advertised_port = *port;
  if (IsWildcard(address.host)) {
    char hostname[256] = {0};
    serve.handler.advertised_host = gethostname(hostname, sizeof(hostname) - 1) == 0 ? hostname : "localhost";
  }
  if (!serve.advertised.empty()) {
    absl::StatusOr<net::HostPort> adv = net::ParseHostPort(serve.advertised);
    if (!adv.ok()) {
      close(listen_fd);
      return Annotate(adv.status(), "advertised.listeners");
    }
    serve.handler.advertised_host = adv->host;
    serve.handler.advertised_port = adv->port;
  }
  serve.handler.broker_configs["broker.id"] = "0";
  serve.handler.broker_configs["socket.request.max.bytes"] = absl::StrCat(serve.server.max_request_bytes);
  serve.handler.broker_configs["auto.create.topics.enable"] = serve.handler.auto_create_topics ? "true" : "false";
  serve.handler.broker_configs["num.network.threads"] = absl::StrCat(serve.server.io_threads);
  serve.handler.broker_configs["listeners"] = net::FormatHostPort(address.host, *port);

  // The handler outlives the server (declared first, destroyed last).
  net::KafkaHandler handler(broker.get(), serve.handler);
  absl::StatusOr<std::unique_ptr<net::Server>> started = net::Server::Start(serve.server, &handler);
  if (!started.ok()) return Annotate(started.status(), "cannot start the broker's listener");
  std::unique_ptr<net::Server> server = *std::move(started);
  EDDY_RETURN_IF_ERROR(WriteStdout(absl::StrCat("eddy broker listening on ", net::FormatHostPort(address.host, *port),
                                                " (data dir ", data_dir, ")\n")));

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  fprintf(stderr, "eddy: %s received, shutting down\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  // Stop accepting and reading, answer what was read (parked fetches at once), close the connections ...
  server->Shutdown();
  server.reset();
  // ... then flush the log and mark the shutdown clean, so the next start skips recovery.
  return Annotate(broker->Close(), "closing the data directory");
}

}  // namespace eddy::cli
