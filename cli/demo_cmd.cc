// eddy demo: a short tour of the embedded broker, run by the README's first command (scripts/demo.sh).
// Creates topic "orders" (3 partitions), produces 20 JSON orders keyed by customer with acks=all, consumes
// 12 of them in consumer group "demo-group" and commits, then shows the topic, the records read and the
// group's lag. The content is deterministic (fixed orders and event timestamps).
#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/common.h"
#include "cli/consume_loop.h"
#include "cli/describe.h"
#include "eddy/core/status.h"

namespace eddy::cli {
namespace {

constexpr char kTopic[] = "orders";
constexpr char kGroup[] = "demo-group";
constexpr int kOrders = 20;
constexpr int kToConsume = 12;
constexpr int kShown = 6;
constexpr int64_t kFirstOrderMs = 1705314600000;  // 2024-01-15T10:30:00Z

struct Order {
  std::string key;   // customer_id
  std::string json;  // the value
  int64_t timestamp_ms;
};

// MakeOrder returns order i (1-based): a fixed customer, amount and time, 3 minutes apart. The six
// customers (cust-11 .. cust-16) hash to all three partitions.
Order MakeOrder(int i) {
  std::string customer = absl::StrCat("cust-", 11 + (i * 5) % 6);
  double amount = 10 + (i * 37) % 90 + (i % 4) * 0.25;
  int minutes = 30 + (i - 1) * 3;
  std::string time = absl::StrFormat("2024-01-15T%02d:%02d:00Z", 10 + minutes / 60, minutes % 60);
  std::string json = absl::StrCat("{\"order_id\":\"order-", i, "\",\"customer_id\":\"", customer,
                                  "\",\"amount\":", absl::StrFormat("%.2f", amount), ",\"timestamp\":\"", time, "\"}");
  return {customer, json, kFirstOrderMs + int64_t{(i - 1) * 3} * 60000};
}

void Heading(absl::string_view text) { printf("\n== %.*s ==\n", static_cast<int>(text.size()), text.data()); }

absl::Status Produce(Broker& broker) {
  ProducerConfig config;
  config.client_id = "eddy-demo";
  config.acks = Acks::kAll;
  DeliveryTracker tracker;
  std::unique_ptr<Producer> producer = broker.NewProducer(config);
  for (int i = 1; i <= kOrders; ++i) {
    Order o = MakeOrder(i);
    ProducerRecord r{.topic = kTopic, .key = o.key, .value = o.json, .timestamp = o.timestamp_ms};
    EDDY_RETURN_IF_ERROR(Annotate(producer->Send(r, tracker.Callback()), "cannot send an order"));
  }
  EDDY_RETURN_IF_ERROR(Annotate(producer->Flush(), "cannot deliver the orders"));
  EDDY_RETURN_IF_ERROR(producer->Close());
  if (tracker.failed() > 0) return Annotate(tracker.first_error(), "an order was not delivered");
  printf("%lld orders acknowledged (acks=all: each batch fsynced before it is acknowledged).\n",
         static_cast<long long>(tracker.acknowledged()));
  return absl::OkStatus();
}

absl::Status Consume(Broker& broker) {
  ConsumerConfig config;
  config.client_id = "eddy-demo";
  config.group_id = kGroup;
  config.auto_offset_reset = OffsetReset::kEarliest;
  config.enable_auto_commit = false;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> consumer, broker.NewConsumer(config));
  EDDY_RETURN_IF_ERROR(consumer->Subscribe({kTopic}));
  ConsumeLoop loop(consumer.get(), {.max_messages = kToConsume, .idle_timeout_ms = 5000});
  Table table({"PARTITION", "OFFSET", "KEY", "VALUE"});
  int shown = 0;
  EDDY_RETURN_IF_ERROR(loop.Run(
      [&](const RecordView& r) {
        if (shown++ < kShown) {
          table.AddRow({absl::StrCat(r.partition()), absl::StrCat(r.offset()), std::string(r.key()),
                        std::string(r.value())});
        }
      },
      [] { return absl::OkStatus(); }));
  EDDY_RETURN_IF_ERROR(loop.Commit());
  EDDY_RETURN_IF_ERROR(consumer->Close());
  printf("Group %s read %lld records and committed its offsets. The first %d:\n\n%s", kGroup,
         static_cast<long long>(loop.consumed()), kShown, table.Render().c_str());
  if (loop.consumed() != kToConsume) {
    return absl::InternalError(absl::StrCat("expected ", kToConsume, " records, read ", loop.consumed()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunDemo(Args args) {
  std::string data_dir = kDefaultDataDir;
  FlagSet flags("eddy demo [--data-dir DIR]",
                "Creates topic 'orders' (3 partitions), produces 20 orders keyed by customer, consumes 12\n"
                "of them in group 'demo-group', and shows the topic, the records and the group's lag. Use a\n"
                "fresh data directory: the output is then always the same.");
  AddDataDirFlag(&flags, &data_dir);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 0, &pos, &help));
  if (help) return absl::OkStatus();

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Broker> broker, OpenBroker(data_dir));
  printf("Eddy demo: embedded broker in %s\n", data_dir.c_str());

  Heading("1. Create topic 'orders' with 3 partitions");
  absl::Status created = broker->admin().CreateTopic({.name = kTopic, .partitions = 3});
  if (absl::IsAlreadyExists(created)) {
    printf("Topic %s already exists (this data directory was used before); reusing it.\n", kTopic);
  } else {
    EDDY_RETURN_IF_ERROR(Annotate(created, "cannot create topic 'orders'"));
    printf("Created topic %s.\n", kTopic);
  }

  Heading("2. Produce 20 orders, keyed by customer_id");
  printf("e.g. key=%s value=%s\n", MakeOrder(1).key.c_str(), MakeOrder(1).json.c_str());
  EDDY_RETURN_IF_ERROR(Produce(*broker));
  EDDY_ASSIGN_OR_RETURN(TopicDescription topic, broker->admin().DescribeTopic(kTopic));
  printf("\n$ eddy topics describe %s\n%s", kTopic, FormatTopicDescription(topic).c_str());
  printf("(A key always maps to the same partition: murmur2 of the key, as Kafka's partitioner.)\n");

  Heading("3. Consume 12 orders in consumer group 'demo-group'");
  EDDY_RETURN_IF_ERROR(Consume(*broker));

  Heading("4. The group's offsets and lag");
  EDDY_ASSIGN_OR_RETURN(GroupDescription group, broker->admin().DescribeGroup(kGroup));
  printf("$ eddy groups describe %s\n%s", kGroup, FormatGroupDescription(group).c_str());

  EDDY_RETURN_IF_ERROR(Annotate(broker->Close(), "cannot close the data directory"));
  Heading("Next");
  printf("Read the remaining orders where the group stopped:\n"
         "  eddy consume %s --group %s --timeout-ms 1000 --format '%%p/%%o %%k %%s\\n' --data-dir %s\n",
         kTopic, kGroup, data_dir.c_str());
  return absl::OkStatus();
}

}  // namespace eddy::cli
