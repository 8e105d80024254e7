#include "eddy/core/producer.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/config_util.h"
#include "eddy/core/compression.h"

namespace eddy {

std::future<absl::StatusOr<RecordMetadata>> Producer::SendAsync(const ProducerRecord& record) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<RecordMetadata>>>();
  auto future = promise->get_future();
  absl::Status s = Send(record, [promise](const absl::Status& st, const RecordMetadata& md) {
    if (st.ok()) {
      promise->set_value(md);
    } else {
      promise->set_value(st);
    }
  });
  if (!s.ok()) promise->set_value(s);
  return future;
}

absl::Status ProducerConfig::Set(absl::string_view name, absl::string_view value) {
  using config_util::ParseInt;
  if (name == "client.id") {
    client_id = std::string(value);
  } else if (name == "acks") {
    if (value == "all" || value == "-1") {
      acks = Acks::kAll;
    } else if (value == "1") {
      acks = Acks::kLeader;
    } else if (value == "0") {
      acks = Acks::kNone;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("acks must be 0, 1, all or -1, not '", value, "'"));
    }
  } else if (name == "linger.ms") {
    return ParseInt(name, value, 0, INT64_MAX, &linger_ms);
  } else if (name == "batch.size") {
    return ParseInt(name, value, 0, INT32_MAX, &batch_size);
  } else if (name == "compression.type") {
    absl::StatusOr<Compression> c = ParseCompression(value);
    if (!c.ok()) return c.status();
    compression = *c;
  } else if (name == "buffer.memory") {
    return ParseInt(name, value, 1, INT64_MAX, &buffer_memory);
  } else if (name == "max.block.ms") {
    return ParseInt(name, value, 0, INT64_MAX, &max_block_ms);
  } else if (name == "max.request.size") {
    return ParseInt(name, value, 1, INT32_MAX, &max_request_size);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown producer config '", name, "'"));
  }
  return absl::OkStatus();
}

}  // namespace eddy
