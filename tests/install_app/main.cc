// install_app: opens an embedded Broker in the directory given, creates a topic, produces one record and
// reads it back. Exits 0 only if it reads exactly what it wrote. Uses only Eddy's installed headers.
#include <cstdio>
#include <memory>
#include <string>

#include "eddy/broker/broker.h"
#include "eddy/core/consumer_records.h"
#include "eddy/core/status.h"

namespace {

constexpr char kTopic[] = "greetings";
constexpr char kKey[] = "install-test";
constexpr char kValue[] = "hello from an installed eddy";

absl::Status Run(const std::string& data_dir, bool* match) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, eddy::Broker::Open({.data_dir = data_dir}));
  EDDY_RETURN_IF_ERROR(broker->admin().CreateTopic({.name = kTopic, .partitions = 1}));

  std::unique_ptr<eddy::Producer> producer = broker->NewProducer({});
  EDDY_RETURN_IF_ERROR(producer->Send({.topic = kTopic, .key = kKey, .value = kValue}));
  EDDY_RETURN_IF_ERROR(producer->Flush());
  EDDY_RETURN_IF_ERROR(producer->Close());

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Consumer> consumer, broker->NewConsumer({}));
  std::vector<eddy::TopicPartition> tps = {{kTopic, 0}};
  EDDY_RETURN_IF_ERROR(consumer->Assign(tps));
  EDDY_RETURN_IF_ERROR(consumer->SeekToBeginning(tps));
  eddy::ConsumerRecords records;
  for (int attempt = 0; attempt < 100 && records.empty(); ++attempt) {
    EDDY_RETURN_IF_ERROR(consumer->Poll(absl::Milliseconds(100), &records));
  }
  int count = 0;
  for (const eddy::RecordView& r : records) {
    ++count;
    std::printf("read back: key=%.*s value=%.*s offset=%lld\n", static_cast<int>(r.key().size()),
                r.key().data(), static_cast<int>(r.value().size()), r.value().data(),
                static_cast<long long>(r.offset()));
    *match = count == 1 && r.has_key() && r.key() == kKey && r.value() == kValue && r.offset() == 0;
  }
  EDDY_RETURN_IF_ERROR(records.status());
  if (count != 1) *match = false;
  EDDY_RETURN_IF_ERROR(consumer->Close());
  consumer.reset();
  return broker->Close();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: app DATA_DIR\n");
    return 2;
  }
  bool match = false;
  absl::Status s = Run(argv[1], &match);
  if (!s.ok()) {
    std::fprintf(stderr, "app: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!match) {
    std::fprintf(stderr, "app: did not read back exactly the record it wrote\n");
    return 1;
  }
  std::printf("app: OK\n");
  return 0;
}
