// eddy bench kafka: drives a Kafka broker over the protocol with librdkafka's own API (not through
// eddy::Producer/Consumer, so the figures are the client's and the broker's alone), against `eddy broker`
// (--bootstrap) and/or librdkafka's in-process mock cluster (--mock), with the same client settings, and
// prints both and their ratio.
//
// produce: N records of B bytes (null keys, one shared payload), rd_kafka_produce with RD_KAFKA_MSG_F_COPY
// as fast as the client accepts them, or paced at --rate records/s; every 16th record carries its send time
// as the message opaque and its delivery report (served on the sending thread by rd_kafka_poll) records the
// latency. One warm-up record is delivered first (connection, metadata); time runs from the first timed
// send to the last delivery report.
// consume: a fresh consumer assigned every partition from the beginning reads the N records back with
// rd_kafka_consume_batch_queue, in passes over what the broker still holds (the mock cluster keeps only
// the last 5 MB of each partition; each new pass re-assigns from the beginning).
// Broker CPU (--broker-pid): utime+stime of that process from /proc/PID/stat around each phase, per record.
// The producer's progress line also quotes librdkafka's own statistics (statistics.interval.ms=1000) of the
// busiest broker connection over the last second: `rtt` (request written to response read: the broker and
// the socket, plus any wait of the client's broker thread) and `queue` (int_latency: produce() until the
// record left the client's queue), so a slow second shows on which side of the socket its time went.
#include <simdjson.h>
#include <stdio.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/common.h"
#include "cli/latency_histogram.h"
#include "eddy/core/status.h"
#include "eddy/kafka_client/kafka_client.h"

namespace eddy::cli {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr int64_t kSample = 16;

struct Options {
  std::string topic = "bench";
  int64_t records = 2000000;
  int64_t record_size = 100;
  int64_t partitions = 1;
  std::string acks = "1";
  int64_t rate = 0;  // records/s; 0 = unlimited
  int64_t broker_pid = 0;
  std::vector<std::string> producer_configs;
};

struct Result {
  double produce_rps = 0, produce_mbps = 0, p50_ms = 0, p99_ms = 0;
  double consume_rps = 0, consume_mbps = 0;
  double produce_cpu_us = -1, consume_cpu_us = -1;  // broker CPU per record
};

// BrokerCpuSeconds: utime + stime of process `pid`, or -1.
double BrokerCpuSeconds(int64_t pid) {
  if (pid <= 0) return -1;
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return -1;
  // Fields after the ")" that closes the command name: state is field 3; utime 14, stime 15.
  std::vector<std::string> f = absl::StrSplit(line.substr(line.rfind(')') + 2), ' ');
  if (f.size() < 13) return -1;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// librdkafka's window statistics of one broker connection, microseconds; -1 before the first report.
struct ClientStats {
  int64_t rtt_p99 = -1, rtt_max = -1, queue_p99 = -1, queue_max = -1;
};

struct ProduceState {
  Stopwatch clock;
  LatencyHistogram latency;
  LatencyHistogram interval;  // since the last progress line
  int64_t delivered = 0;
  int64_t failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  ClientStats stats;  // the last statistics report
  simdjson::dom::parser stats_parser;
};

// The statistics report (JSON, see librdkafka's STATISTICS.md): of the brokers with a node id, the one that
// answered the most requests in the window. Served by rd_kafka_poll on the producing thread.
int OnStatistics(rd_kafka_t*, char* json, size_t len, void* opaque) {
  auto* st = static_cast<ProduceState*>(opaque);
  simdjson::dom::element doc;
  simdjson::dom::object brokers;
  if (st->stats_parser.parse(json, len).get(doc) != simdjson::SUCCESS || doc["brokers"].get(brokers) != simdjson::SUCCESS) {
    return 0;
  }
  int64_t best_count = -1;
  for (simdjson::dom::key_value_pair b : brokers) {
    int64_t nodeid = -1, count = 0;
    if (b.value["nodeid"].get(nodeid) != simdjson::SUCCESS || nodeid < 0) continue;
    if (b.value["rtt"]["cnt"].get(count) != simdjson::SUCCESS || count <= best_count) continue;
    ClientStats cs;
    if (b.value["rtt"]["p99"].get(cs.rtt_p99) != simdjson::SUCCESS ||
        b.value["rtt"]["max"].get(cs.rtt_max) != simdjson::SUCCESS ||
        b.value["int_latency"]["p99"].get(cs.queue_p99) != simdjson::SUCCESS ||
        b.value["int_latency"]["max"].get(cs.queue_max) != simdjson::SUCCESS) {
      continue;
    }
    best_count = count;
    st->stats = cs;
  }
  return 0;  // librdkafka frees json
}

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<ProduceState*>(opaque);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (st->failed++ == 0) st->first_error = m->err;
    return;
  }
  ++st->delivered;
  if (m->_private != nullptr) {
    const int64_t us = st->clock.Micros() - (reinterpret_cast<intptr_t>(m->_private) - 1);
    st->latency.Record(us);
    st->interval.Record(us);
  }
}

absl::StatusOr<rd_kafka_t*> NewClient(rd_kafka_type_t type, const std::string& bootstrap,
                                      const std::vector<std::pair<std::string, std::string>>& configs, void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::vector<std::pair<std::string, std::string>> all = {{"bootstrap.servers", bootstrap}, {"log_level", "3"}};
  all.insert(all.end(), configs.begin(), configs.end());
  for (const auto& [k, v] : all) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat(k, "=", v, ": ", err));
    }
  }
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set_dr_msg_cb(conf, &OnDelivery);
    rd_kafka_conf_set_stats_cb(conf, &OnStatistics);
  }
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) return absl::InvalidArgumentError(err);
  return rk;
}

absl::Status RunProduce(const std::string& label, const std::string& bootstrap, const Options& o, Result* r) {
  ProduceState st;
  std::vector<std::pair<std::string, std::string>> configs = {
      {"acks", o.acks}, {"queue.buffering.max.messages", "1000000"}, {"statistics.interval.ms", "1000"}};
  for (const std::string& kv : o.producer_configs) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    configs.push_back(p);
  }
  EDDY_ASSIGN_OR_RETURN(rd_kafka_t * rk, NewClient(RD_KAFKA_PRODUCER, bootstrap, configs, &st));
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  std::string payload(static_cast<size_t>(o.record_size), '\0');
  std::mt19937 rng(42);
  for (char& c : payload) c = static_cast<char>('A' + rng() % 26);

  // One record delivered before the clock starts: the connection, the topic's metadata and the first
  // ApiVersions/Produce round trips are not the steady state being measured.
  if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr, 0,
                       nullptr) != 0 ||
      rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || st.delivered != 1) {
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return absl::UnavailableError(absl::StrCat(label, ": the warm-up record was not delivered within 30 s"));
  }
  st.delivered = 0;
  const double cpu0 = BrokerCpuSeconds(o.broker_pid);
  st.clock = Stopwatch();
  Stopwatch since_report;
  int64_t reported = 0;
  absl::Status status;
  for (int64_t i = 0; i < o.records && !StopRequested(); ++i) {
    if (o.rate > 0) {  // pace: record i is due at i / rate seconds
      // Sleep in rd_kafka_poll (which serves delivery reports meanwhile) while a millisecond or more ahead;
      // records due within the current millisecond go out together. Spinning instead would take a whole
      // core from the broker and the client's threads on a small machine, and show up as their latency.
      const int64_t due_us = i * 1000000 / o.rate;
      for (int64_t ahead = due_us - st.clock.Micros(); ahead >= 1000; ahead = due_us - st.clock.Micros()) {
        rd_kafka_poll(rk, static_cast<int>(ahead / 1000));
      }
    }
    void* opaque = (i % kSample) == 0 ? reinterpret_cast<void*>(static_cast<intptr_t>(st.clock.Micros() + 1)) : nullptr;
    while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr,
                            0, opaque) != 0) {
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        status = absl::InternalError(absl::StrCat("produce: ", rd_kafka_err2str(rd_kafka_last_error())));
        break;
      }
      rd_kafka_poll(rk, 1);
    }
    if (!status.ok()) break;
    if ((i & 1023) == 0) {
      rd_kafka_poll(rk, 0);
      if (since_report.Seconds() >= 1.0) {
        fprintf(stderr, "%s: %lld records acknowledged, %.0f records/s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                label.c_str(), static_cast<long long>(st.delivered),
                static_cast<double>(st.delivered - reported) / since_report.Seconds(),
                st.interval.Percentile(0.50) / 1000, st.interval.Percentile(0.99) / 1000,
                static_cast<double>(st.interval.Max()) / 1000);
        if (st.stats.rtt_p99 >= 0) {  // none before librdkafka's first statistics report
          fprintf(stderr, "; client: rtt p99 %.2f ms, max %.2f ms, queue p99 %.2f ms, max %.2f ms",
                  static_cast<double>(st.stats.rtt_p99) / 1000, static_cast<double>(st.stats.rtt_max) / 1000,
                  static_cast<double>(st.stats.queue_p99) / 1000, static_cast<double>(st.stats.queue_max) / 1000);
        }
        fputc('\n', stderr);
        st.interval.Reset();  // delivery reports run in rd_kafka_poll on this thread: no concurrent Record
        reported = st.delivered;
        since_report = Stopwatch();
      }
    }
  }
  while (rd_kafka_outq_len(rk) > 0) rd_kafka_poll(rk, 50);
  const double seconds = std::max(st.clock.Seconds(), 1e-9);
  const double cpu1 = BrokerCpuSeconds(o.broker_pid);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  EDDY_RETURN_IF_ERROR(status);
  if (st.failed > 0) {
    return absl::InternalError(absl::StrCat(label, ": ", st.failed, " records failed: ", rd_kafka_err2str(st.first_error)));
  }
  r->produce_rps = static_cast<double>(st.delivered) / seconds;
  r->produce_mbps = r->produce_rps * static_cast<double>(o.record_size) / kMiB;
  r->p50_ms = st.latency.Percentile(0.50) / 1000;
  r->p99_ms = st.latency.Percentile(0.99) / 1000;
  if (cpu0 >= 0 && cpu1 >= 0) r->produce_cpu_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(st.delivered);
  printf("%-5s produce: %lld records of %lld B, acks=%s: %.0f records/s, %.2f MB/s, latency p50 %.2f ms, p99 %.2f ms\n",
         label.c_str(), static_cast<long long>(st.delivered), static_cast<long long>(o.record_size), o.acks.c_str(),
         r->produce_rps, r->produce_mbps, r->p50_ms, r->p99_ms);
  return absl::OkStatus();
}

absl::Status RunConsume(const std::string& label, const std::string& bootstrap, const Options& o, Result* r) {
  EDDY_ASSIGN_OR_RETURN(rd_kafka_t * rk,
                        NewClient(RD_KAFKA_CONSUMER, bootstrap,
                                  {{"group.id", absl::StrCat("eddy-bench-", getpid())}, {"enable.auto.commit", "false"},
                                   {"auto.offset.reset", "earliest"}, {"fetch.wait.max.ms", "10"},
                                   {"fetch.error.backoff.ms", "10"}},
                                  nullptr));
  rd_kafka_poll_set_consumer(rk);
  // The records the broker still holds (the mock cluster keeps only the last 5 MB of a partition): read
  // them in passes from the beginning until N records were read.
  int64_t available = 0;
  for (int32_t p = 0; p < o.partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), p, &low, &high, 10000);
    available += high - low;
  }
  if (available <= 0) return absl::FailedPreconditionError(absl::StrCat(label, ": nothing to consume"));
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(o.partitions));
  for (int32_t p = 0; p < o.partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, o.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  int64_t in_pass = 0, passes = 1;
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> msgs(10000);
  const double cpu0 = BrokerCpuSeconds(o.broker_pid);
  int64_t count = 0, reported = 0;
  double bytes = 0;
  Stopwatch clock, since_report, idle;
  absl::Status status;
  while (count < o.records && !StopRequested()) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs.data(), msgs.size());
    if (n <= 0 && idle.Seconds() > 10) {
      status = absl::DeadlineExceededError(absl::StrCat(label, ": no records for 10 s after ", count));
      break;
    }
    if (n > 0) idle = Stopwatch();
    for (ssize_t i = 0; i < n; ++i) {
      if (msgs[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++count;
        ++in_pass;
        bytes += static_cast<double>(msgs[i]->len + msgs[i]->key_len);
      }
      rd_kafka_message_destroy(msgs[i]);
    }
    if (in_pass >= available && count < o.records) {
      rd_kafka_assign(rk, list);  // next pass, from the beginning
      in_pass = 0;
      ++passes;
    }
    if (since_report.Seconds() >= 1.0) {
      fprintf(stderr, "%s: %lld records consumed, %.0f records/s\n", label.c_str(), static_cast<long long>(count),
              static_cast<double>(count - reported) / since_report.Seconds());
      reported = count;
      since_report = Stopwatch();
    }
  }
  const double seconds = std::max(clock.Seconds(), 1e-9);
  const double cpu1 = BrokerCpuSeconds(o.broker_pid);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  EDDY_RETURN_IF_ERROR(status);
  r->consume_rps = static_cast<double>(count) / seconds;
  r->consume_mbps = bytes / kMiB / seconds;
  if (cpu0 >= 0 && cpu1 >= 0) r->consume_cpu_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(count);
  printf("%-5s consume: %lld records (%lld passes over %lld): %.0f records/s, %.2f MB/s\n", label.c_str(),
         static_cast<long long>(count), static_cast<long long>(passes), static_cast<long long>(available),
         r->consume_rps, r->consume_mbps);
  if (passes > 1) {
    fprintf(stderr,
            "%s: the broker held only %lld of the %lld records, so they were read in %lld passes, each restarting "
            "its fetches: this consume rate is not comparable with a one-pass rate. Spread the records over more "
            "--partitions (the mock keeps about 5 MB per partition).\n",
            label.c_str(), static_cast<long long>(available), static_cast<long long>(o.records),
            static_cast<long long>(passes));
  }
  return absl::OkStatus();
}

constexpr char kDescription[] =
    "Benchmarks a Kafka broker with librdkafka: produces N records of B bytes (acks, optional --rate\n"
    "records/s), then reads them back, and reports records/s, MB/s and produce latency p50/p99 (send to\n"
    "delivery report). --bootstrap drives that broker (e.g. eddy broker); --mock drives librdkafka's\n"
    "in-process mock cluster with the same settings; with both, prints the ratio. The topic is created\n"
    "with --partitions partitions (on eddy broker by auto-creation: start it with\n"
    "--config num.partitions=P, or create the topic first). --broker-pid reports that process's CPU time\n"
    "per record. MB = 2^20 bytes of values.";

}  // namespace

absl::Status RunBenchKafka(Args args) {
  Options o;
  std::string bootstrap;
  bool mock = false;
  FlagSet flags("eddy bench kafka [--bootstrap HOST:PORT] [--mock] [--records N] [--record-size B] [--acks 1|all] "
                "[--rate R] [--partitions P] [--broker-pid PID]",
                kDescription);
  flags.AddString("bootstrap", &bootstrap, "HOST:PORT", "the broker to drive");
  flags.AddBool("mock", &mock, "also (or only) drive librdkafka's mock cluster, in this process");
  flags.AddString("topic", &o.topic, "T", "topic");
  flags.AddInt("records", &o.records, "N", "records to produce and consume", 1);
  flags.AddInt("record-size", &o.record_size, "B", "value size in bytes", 0, 100 << 20);
  flags.AddString("acks", &o.acks, "0|1|all", "acks");
  flags.AddInt("rate", &o.rate, "R", "send at most R records/s (default: unlimited)", 0);
  flags.AddInt("partitions", &o.partitions, "P", "partitions of the topic", 1, 10000);
  flags.AddInt("broker-pid", &o.broker_pid, "PID", "report this process's CPU per record", 0);
  flags.AddList("producer-config", &o.producer_configs, "k=v", "a librdkafka producer config");
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 0, &pos, &help));
  if (help) return absl::OkStatus();
  if (bootstrap.empty() && !mock) return absl::InvalidArgumentError("give --bootstrap, --mock or both");
  InstallStopSignalHandlers();

  Result broker_result, mock_result;
  if (!bootstrap.empty()) {
    absl::StatusOr<std::unique_ptr<Admin>> admin = NewKafkaAdmin({{"bootstrap.servers", bootstrap}, {"log_level", "2"}});
    EDDY_RETURN_IF_ERROR(Annotate(admin.status(), "cannot connect"));
    absl::Status created = (*admin)->CreateTopic({.name = o.topic, .partitions = static_cast<int32_t>(o.partitions)});
    if (!created.ok() && !absl::IsAlreadyExists(created)) return Annotate(created, "cannot create the topic");
    EDDY_RETURN_IF_ERROR(RunProduce("eddy", bootstrap, o, &broker_result));
    EDDY_RETURN_IF_ERROR(RunConsume("eddy", bootstrap, o, &broker_result));
    if (broker_result.produce_cpu_us >= 0) {
      printf("eddy  broker CPU: %.3f us/record produced, %.3f us/record consumed\n", broker_result.produce_cpu_us,
             broker_result.consume_cpu_us);
    }
  }
  if (mock) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t* owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (owner == nullptr) return absl::InternalError(err);
    rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(owner, 1);
    rd_kafka_mock_topic_create(mc, o.topic.c_str(), static_cast<int>(o.partitions), 1);
    const std::string mock_bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    absl::Status s = RunProduce("mock", mock_bootstrap, o, &mock_result);
    if (s.ok()) s = RunConsume("mock", mock_bootstrap, o, &mock_result);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    EDDY_RETURN_IF_ERROR(s);
  }
  if (!bootstrap.empty() && mock) {
    printf("eddy/mock: produce %.2fx, consume %.2fx\n", broker_result.produce_rps / mock_result.produce_rps,
           broker_result.consume_rps / mock_result.consume_rps);
  }
  return absl::OkStatus();
}

}  // namespace eddy::cli
