// eddy produce TOPIC: one record per stdin line, like kafka-console-producer and `kcat -P`.
//
// stdin is read with large read() calls into one buffer and split with memchr; each line is sent as views
// into that buffer (Send copies it into a batch), with a callback that only counts: no per-line allocation.
// At EOF (or SIGINT/SIGTERM) everything read is flushed before the process exits, and the number of
// acknowledged records is printed on stderr (stdout stays free for pipelines).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/cluster.h"
#include "cli/common.h"
#include "eddy/core/status.h"

namespace eddy::cli {
namespace {

constexpr size_t kReadSize = size_t{1} << 20;

struct ProduceOptions {
  std::string topic;
  std::string key_separator;
  int32_t partition = -1;
};

// LineProducer sends the lines it is given and remembers the first error Send returned.
class LineProducer {
 public:
  LineProducer(const ProduceOptions& options, Producer* producer, DeliveryTracker* tracker)
      : options_(options), producer_(producer), tracker_(tracker) {}

  // SendLine sends one line (without its '\n'). Returns Send's error, annotated with the line number.
  absl::Status SendLine(absl::string_view line) {
    ++lines_;
    ProducerRecord record{.topic = options_.topic, .partition = options_.partition};
    if (!options_.key_separator.empty()) {
      size_t sep = line.find(options_.key_separator);
      if (sep != absl::string_view::npos) {
        record.key = line.substr(0, sep);
        line.remove_prefix(sep + options_.key_separator.size());
      }
    }
    record.value = line;
    absl::Status s = producer_->Send(record, tracker_->Callback());
    if (!s.ok()) return Annotate(s, absl::StrCat("cannot send line ", lines_));
    return absl::OkStatus();
  }
  int64_t lines() const { return lines_; }

 private:
  const ProduceOptions& options_;
  Producer* producer_;
  DeliveryTracker* tracker_;
  int64_t lines_ = 0;
};

// SendStdin reads stdin to EOF (or until a stop signal) and sends every line. Stops at the first error.
absl::Status SendStdin(LineProducer* lines) {
  std::string buf(kReadSize, '\0');
  size_t begin = 0;  // start of the first unsent byte
  size_t end = 0;    // end of the bytes read
  while (!StopRequested()) {
    if (end == buf.size()) {
      if (begin > 0) {  // move the partial line to the front
        memmove(buf.data(), buf.data() + begin, end - begin);
        end -= begin;
        begin = 0;
      } else {  // a line longer than the buffer: grow it
        buf.resize(buf.size() * 2);
      }
    }
    ssize_t n = read(STDIN_FILENO, buf.data() + end, buf.size() - end);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("cannot read stdin: ", strerror(errno)));
    }
    if (n == 0) break;
    end += static_cast<size_t>(n);
    const char* data = buf.data();
    while (begin < end) {
      const char* nl = static_cast<const char*>(memchr(data + begin, '\n', end - begin));
      if (nl == nullptr) break;
      size_t len = static_cast<size_t>(nl - (data + begin));
      EDDY_RETURN_IF_ERROR(lines->SendLine(absl::string_view(data + begin, len)));
      begin += len + 1;
    }
    if (begin == end) begin = end = 0;
  }
  if (begin < end && !StopRequested()) {  // a last line without '\n'
    EDDY_RETURN_IF_ERROR(lines->SendLine(absl::string_view(buf.data() + begin, end - begin)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunProduce(Args args) {
  ClusterFlags where;
  ProduceOptions options;
  std::string acks = "all";
  std::string compression = "none";
  int64_t partition = -1;
  int64_t linger_ms = ProducerConfig().linger_ms;
  int64_t batch_size = ProducerConfig().batch_size;
  std::vector<std::string> producer_configs;
  FlagSet flags(
      "eddy produce TOPIC [--key-separator SEP] [--acks 0|1|all] [--compression C] [--partition P] "
      "[--linger-ms N]",
      "Reads stdin and sends one record per line (without the newline). With --key-separator, the part of a\n"
      "line before the first SEP is the key and the rest the value; a line without SEP has a null key (as\n"
      "kcat -K). At the end prints \"N records acknowledged\" on stderr; exits 1 if any record failed.\n"
      "SIGINT/SIGTERM stop reading; what was read is still delivered.");
  flags.AddString("key-separator", &options.key_separator, "SEP", "split each line into key SEP value");
  flags.AddString("acks", &acks, "0|1|all", "when a record counts as delivered (Kafka's acks)");
  flags.AddString("compression", &compression, "C", "none, gzip, snappy, lz4 or zstd (compression.type)");
  flags.AddInt("partition", &partition, "P", "send every record to partition P (default: by key hash)", 0,
               INT32_MAX);
  flags.AddInt("linger-ms", &linger_ms, "N", "linger.ms: wait up to N ms to fill a batch", 0);
  flags.AddInt("batch-size", &batch_size, "B", "batch.size in bytes", 1, INT32_MAX);
  flags.AddList("producer-config", &producer_configs, "k=v", "any producer config by its Kafka name");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 1, 1, &pos, &help));
  if (help) return absl::OkStatus();
  options.topic = pos[0];
  options.partition = static_cast<int32_t>(partition);

  ProducerConfig config;
  config.client_id = "eddy-produce";
  EDDY_RETURN_IF_ERROR(config.Set("acks", acks));
  EDDY_RETURN_IF_ERROR(config.Set("compression.type", compression));
  config.linger_ms = linger_ms;
  config.batch_size = static_cast<int32_t>(batch_size);
  for (const std::string& kv : producer_configs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--producer-config takes key=value, not '", kv, "'"));
    }
    EDDY_RETURN_IF_ERROR(config.Set(kv.substr(0, eq), kv.substr(eq + 1)));
  }

  InstallStopSignalHandlers();
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  DeliveryTracker tracker;  // outlives the producer: callbacks point at it
  absl::StatusOr<std::unique_ptr<Producer>> created = broker->NewProducer(config);
  EDDY_RETURN_IF_ERROR(Annotate(created.status(), "cannot create a producer"));
  std::unique_ptr<Producer> producer = *std::move(created);
  absl::StatusOr<int32_t> partitions = producer->PartitionsFor(options.topic);
  EDDY_RETURN_IF_ERROR(TopicError(partitions.status(), "cannot produce to topic", options.topic));
  if (options.partition >= *partitions) {
    return absl::InvalidArgumentError(absl::StrCat("topic '", options.topic, "' has ", *partitions,
                                                   " partitions: there is no partition ", options.partition));
  }

  LineProducer lines(options, producer.get(), &tracker);
  absl::Status send_status = SendStdin(&lines);
  // Deliver everything accepted so far, whatever stopped the input.
  absl::Status flush_status = producer->Close();
  absl::Status close_status = broker->Close();

  const int64_t acked = tracker.acknowledged();
  const int64_t failed = tracker.failed();
  if (config.acks == Acks::kNone) {
    fprintf(stderr, "%lld records sent (acks=0: not acknowledged)\n", static_cast<long long>(acked));
  } else {
    fprintf(stderr, "%lld records acknowledged\n", static_cast<long long>(acked));
  }
  EDDY_RETURN_IF_ERROR(send_status);
  if (failed > 0) {
    return Annotate(tracker.first_error(),
                    absl::StrCat(failed, " of ", lines.lines(), " records were not delivered"));
  }
  EDDY_RETURN_IF_ERROR(Annotate(flush_status, "cannot flush the producer"));
  return Annotate(close_status, "cannot close the data directory");
}

}  // namespace eddy::cli
