// eddy bench produce|consume: throughput benchmarks on the embedded broker, in the manner of
// kafka-producer-perf-test and kafka-consumer-perf-test. The figures go into docs/PERFORMANCE.md.
//
// produce: N records of B bytes (null keys; every value is the same buffer of seeded random uppercase
// letters, as kafka-producer-perf-test's payload), sent with a callback that captures two words (no
// allocation per record) and counts acknowledgements; one record in kLatencySample also records its
// send-to-acknowledgement latency in a histogram (reading the clock for every record would cost more than
// the send itself). Time runs from the first Send to the end of Flush (every record acknowledged).
// --compare-disk then writes the same number of bytes to a file in the data directory with an fdatasync
// per MiB, the disk's baseline for acks=all, and prints both figures and their ratio.
// consume: reads from the beginning with Assign until N records or the log end seen at the start.
// MB means 2^20 bytes (as Kafka's perf tools); the byte count is the value bytes (plus keys on consume).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/common.h"
#include "cli/latency_histogram.h"
#include "eddy/core/status.h"

namespace eddy::cli {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr int64_t kLatencySample = 16;

// DiskBaseline writes `bytes` to a new file in `dir` in 1 MiB writes, each followed by fdatasync, and
// returns MB/s: the sequential bandwidth an fsync-per-MiB log can reach on this disk.
absl::StatusOr<double> DiskBaseline(const std::string& dir, int64_t bytes) {
  const std::string path = absl::StrCat(dir, "/bench-disk-baseline.tmp");
  int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", strerror(errno)));
  std::string chunk(1 << 20, 'x');
  Stopwatch clock;
  absl::Status status;
  for (int64_t written = 0; written < bytes && status.ok(); written += static_cast<int64_t>(chunk.size())) {
    if (write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size()) || fdatasync(fd) != 0) {
      status = absl::InternalError(absl::StrCat("writing ", path, ": ", strerror(errno)));
    }
  }
  const double seconds = std::max(clock.Seconds(), 1e-9);
  close(fd);
  unlink(path.c_str());
  if (!status.ok()) return status;
  return static_cast<double>(bytes) / kMiB / seconds;
}

constexpr char kBenchUsage[] =
    "Usage: eddy bench produce --topic T --records N --record-size B [flags]\n"
    "       eddy bench consume --topic T [--records N]\n"
    "       eddy bench kafka [--bootstrap HOST:PORT] [--mock] [flags]   (over the Kafka protocol)\n"
    "\n"
    "Throughput benchmarks on the embedded broker. Run 'eddy bench produce --help' for the flags.\n";

// ProduceBench owns the counters that delivery callbacks update (from the producer's I/O thread).
struct ProduceBench {
  Stopwatch clock;  // started when sending starts
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int64_t> failed{0};
  LatencyHistogram latency;
  absl::Mutex mu;
  absl::Status first_error ABSL_GUARDED_BY(mu);

  // sent_us < 0: not a latency sample.
  void OnDelivery(const absl::Status& s, int64_t sent_us) {
    if (s.ok()) {
      if (sent_us >= 0) latency.Record(clock.Micros() - sent_us);
      acknowledged.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    failed.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&mu);
    if (first_error.ok()) first_error = s;
  }
};

void PrintProgress(const char* verb, int64_t total, int64_t delta_records, double delta_bytes, double dt) {
  fprintf(stderr, "%lld records %s, %.1f records/s, %.2f MB/s\n", static_cast<long long>(total), verb,
          static_cast<double>(delta_records) / dt, delta_bytes / kMiB / dt);
}

// EnsureTopic creates `topic` with `partitions` partitions unless it exists.
absl::Status EnsureTopic(Admin& admin, const std::string& topic, int64_t partitions, bool partitions_set) {
  absl::StatusOr<TopicDescription> d = admin.DescribeTopic(topic);
  if (d.ok()) {
    if (partitions_set && static_cast<int64_t>(d->partitions.size()) != partitions) {
      fprintf(stderr, "topic %s exists with %zu partitions; --partitions %lld ignored\n", topic.c_str(),
              d->partitions.size(), static_cast<long long>(partitions));
    }
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(d.status())) return TopicError(d.status(), "cannot describe topic", topic);
  return Annotate(admin.CreateTopic({.name = topic, .partitions = static_cast<int32_t>(partitions)}),
                  absl::StrCat("cannot create topic '", topic, "'"));
}

absl::Status BenchProduce(Args args) {
  std::string data_dir = kDefaultDataDir;
  std::string topic, acks = "all", compression = "none";
  int64_t records = 0, record_size = 0, partitions = 1;
  ProducerConfig config;
  int64_t batch_size = config.batch_size, linger_ms = config.linger_ms;
  FlagSet flags("eddy bench produce --topic T --records N --record-size B [--acks 0|1|all] [--partitions P] "
                "[--compression C] [--batch-size B] [--linger-ms L]",
                "Produces N records of B bytes as fast as the producer accepts them and reports throughput\n"
                "(about every second on stderr, then a final line) and acknowledgement latency. Creates\n"
                "the topic if it does not exist.");
  flags.AddString("topic", &topic, "T", "topic to write (required)");
  flags.AddInt("records", &records, "N", "number of records (required)", 1);
  flags.AddInt("record-size", &record_size, "B", "value size in bytes (required)", 0, INT32_MAX);
  flags.AddString("acks", &acks, "0|1|all", "acks");
  flags.AddInt("partitions", &partitions, "P", "partitions when creating the topic", 1, INT32_MAX);
  flags.AddString("compression", &compression, "C", "none, gzip, snappy, lz4 or zstd");
  flags.AddInt("batch-size", &batch_size, "B", "batch.size in bytes", 1, INT32_MAX);
  flags.AddInt("linger-ms", &linger_ms, "L", "linger.ms", 0);
  bool compare_disk = false;
  flags.AddBool("compare-disk", &compare_disk,
                "then write as many bytes with an fdatasync per MiB to the same disk and compare");
  AddDataDirFlag(&flags, &data_dir);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 0, &pos, &help));
  if (help) return absl::OkStatus();
  if (topic.empty() || !flags.IsSet("records") || !flags.IsSet("record-size")) {
    return absl::InvalidArgumentError(
        "--topic, --records and --record-size are required (see 'eddy bench produce --help')");
  }
  config.client_id = "eddy-bench";
  EDDY_RETURN_IF_ERROR(config.Set("acks", acks));
  EDDY_RETURN_IF_ERROR(config.Set("compression.type", compression));
  config.batch_size = static_cast<int32_t>(batch_size);
  config.linger_ms = linger_ms;

  InstallStopSignalHandlers();
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Broker> broker, OpenBroker(data_dir));
  EDDY_RETURN_IF_ERROR(EnsureTopic(broker->admin(), topic, partitions, flags.IsSet("partitions")));

  std::string payload(static_cast<size_t>(record_size), '\0');
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> letter('A', 'Z');
  for (char& c : payload) c = static_cast<char>(letter(rng));

  auto bench = std::make_unique<ProduceBench>();  // outlives the producer: callbacks point at it
  std::unique_ptr<Producer> producer = broker->NewProducer(config);
  const ProducerRecord record{.topic = topic, .value = absl::string_view(payload)};
  ProduceBench* b = bench.get();
  b->clock = Stopwatch();
  Stopwatch since_report;
  int64_t reported = 0;
  int64_t sent = 0;
  absl::Status send_status;
  for (; sent < records && !StopRequested(); ++sent) {
    const int64_t sent_us = (sent % kLatencySample) == 0 ? b->clock.Micros() : -1;
    auto callback = [b, sent_us](const absl::Status& s, const RecordMetadata&) { b->OnDelivery(s, sent_us); };
    static_assert(sizeof(callback) <= 2 * sizeof(void*), "must fit AnyInvocable's inline storage");
    send_status = producer->Send(record, std::move(callback));
    if (!send_status.ok()) break;
    if ((sent & 1023) == 0 && since_report.Seconds() >= 1.0) {
      int64_t acked = b->acknowledged.load(std::memory_order_relaxed);
      double dt = since_report.Seconds();
      PrintProgress("acknowledged", acked, acked - reported, static_cast<double>(acked - reported) *
                    static_cast<double>(record_size), dt);
      reported = acked;
      since_report = Stopwatch();
    }
  }
  absl::Status flush_status = producer->Flush();
  const double seconds = std::max(b->clock.Seconds(), 1e-9);
  absl::Status close_status = producer->Close();
  producer.reset();
  absl::Status broker_status = broker->Close();

  const int64_t acked = b->acknowledged.load();
  printf("produced %lld records in %.3f s: %.1f records/s, %.2f MB/s\n", static_cast<long long>(acked),
         seconds, static_cast<double>(acked) / seconds,
         static_cast<double>(acked) * static_cast<double>(record_size) / kMiB / seconds);
  if (config.acks != Acks::kNone) {
    printf("latency (send to ack): avg %.2f ms, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           b->latency.Mean() / 1000, b->latency.Percentile(0.50) / 1000, b->latency.Percentile(0.95) / 1000,
           b->latency.Percentile(0.99) / 1000, static_cast<double>(b->latency.Max()) / 1000);
  }
  if (compare_disk) {
    const double produced_mb = static_cast<double>(acked) * static_cast<double>(record_size) / kMiB / seconds;
    EDDY_ASSIGN_OR_RETURN(double disk_mb,
                          DiskBaseline(data_dir, static_cast<int64_t>(acked) * std::max<int64_t>(record_size, 1)));
    printf("disk baseline (1 MiB writes, fdatasync each, same directory): %.2f MB/s; producer/disk = %.2f\n",
           disk_mb, produced_mb / disk_mb);
  }
  EDDY_RETURN_IF_ERROR(Annotate(send_status, absl::StrCat("send failed after ", sent, " records")));
  if (b->failed.load() > 0) {
    absl::MutexLock lock(&b->mu);
    return Annotate(b->first_error, absl::StrCat(b->failed.load(), " records were not delivered"));
  }
  EDDY_RETURN_IF_ERROR(Annotate(flush_status, "flush failed"));
  EDDY_RETURN_IF_ERROR(Annotate(close_status, "cannot close the producer"));
  return Annotate(broker_status, "cannot close the data directory");
}

absl::Status BenchConsume(Args args) {
  std::string data_dir = kDefaultDataDir;
  std::string topic;
  int64_t records = -1;
  FlagSet flags("eddy bench consume --topic T [--records N]",
                "Reads the topic from the beginning (Assign, all partitions) until N records or the end\n"
                "of the log as it was at the start, and reports throughput.");
  flags.AddString("topic", &topic, "T", "topic to read (required)");
  flags.AddInt("records", &records, "N", "stop after N records (default: read to the end)", 1);
  AddDataDirFlag(&flags, &data_dir);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 0, &pos, &help));
  if (help) return absl::OkStatus();
  if (topic.empty()) return absl::InvalidArgumentError("--topic is required (see 'eddy bench consume --help')");

  InstallStopSignalHandlers();
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Broker> broker, OpenBroker(data_dir));
  absl::StatusOr<TopicDescription> d = broker->admin().DescribeTopic(topic);
  EDDY_RETURN_IF_ERROR(TopicError(d.status(), "cannot read topic", topic));
  std::vector<TopicPartition> tps;
  std::vector<int64_t> end_offset, position;  // by partition
  for (const PartitionDescription& p : d->partitions) {
    tps.push_back({topic, p.partition});
    if (static_cast<size_t>(p.partition) >= end_offset.size()) {
      end_offset.resize(p.partition + 1, 0);
      position.resize(p.partition + 1, 0);
    }
    end_offset[p.partition] = p.log_end_offset;
    position[p.partition] = p.log_start_offset;
  }
  auto at_end = [&] {
    for (size_t i = 0; i < end_offset.size(); ++i) {
      if (position[i] < end_offset[i]) return false;
    }
    return true;
  };

  ConsumerConfig config;
  config.client_id = "eddy-bench";
  absl::StatusOr<std::unique_ptr<Consumer>> consumer = broker->NewConsumer(config);
  EDDY_RETURN_IF_ERROR(Annotate(consumer.status(), "cannot create a consumer"));
  EDDY_RETURN_IF_ERROR((*consumer)->Assign(tps));
  EDDY_RETURN_IF_ERROR((*consumer)->SeekToBeginning(tps));

  ConsumerRecords batch;
  int64_t count = 0, reported = 0;
  double bytes = 0, reported_bytes = 0;
  Stopwatch clock, since_report, idle;
  while ((records < 0 || count < records) && !at_end() && !StopRequested()) {
    EDDY_RETURN_IF_ERROR(Annotate((*consumer)->Poll(absl::Milliseconds(200), &batch), "cannot read"));
    if (batch.empty()) {
      if (idle.Seconds() > 10) return absl::DeadlineExceededError("no records for 10 s before the log end");
      continue;
    }
    idle = Stopwatch();
    for (const RecordView& r : batch) {
      if (records >= 0 && count >= records) break;
      ++count;
      bytes += static_cast<double>(r.key().size() + r.value().size());
    }
    EDDY_RETURN_IF_ERROR(Annotate(batch.status(), "cannot read a record"));
    for (const auto& range : batch.partitions()) position[range.tp.partition] = range.next_offset;
    if (since_report.Seconds() >= 1.0) {
      PrintProgress("consumed", count, count - reported, bytes - reported_bytes, since_report.Seconds());
      reported = count;
      reported_bytes = bytes;
      since_report = Stopwatch();
    }
  }
  const double seconds = std::max(clock.Seconds(), 1e-9);
  printf("consumed %lld records in %.3f s: %.1f records/s, %.2f MB/s\n", static_cast<long long>(count),
         seconds, static_cast<double>(count) / seconds, bytes / kMiB / seconds);
  EDDY_RETURN_IF_ERROR((*consumer)->Close());
  consumer->reset();
  return broker->Close();
}

}  // namespace

absl::Status RunBench(Args args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (args.empty()) return absl::InvalidArgumentError("missing subcommand (see 'eddy bench --help')");
    fputs(kBenchUsage, stdout);
    return absl::OkStatus();
  }
  if (args[0] == "produce") return BenchProduce(args.subspan(1));
  if (args[0] == "consume") return BenchConsume(args.subspan(1));
  if (args[0] == "kafka") return RunBenchKafka(args.subspan(1));
  return absl::InvalidArgumentError(absl::StrCat("unknown subcommand 'bench ", args[0], "' (see 'eddy bench --help')"));
}

}  // namespace eddy::cli
