// GroupStore: where the group coordinator keeps committed offsets durably. The broker implements it over the
// internal compacted topic __consumer_offsets, with records in Kafka's format (offsets_codec.h); tests use an
// in-memory fake.
#pragma once

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace eddy::broker {

// Implementations must be thread-safe: Append is called from any thread that commits offsets.
class GroupStore {
 public:
  virtual ~GroupStore() = default;

  // Append writes one record (value nullopt = tombstone) and calls on_durable exactly once: OkStatus when the
  // record is durable (Replay will return it after a crash), an error otherwise. on_durable may run inside
  // Append or later on any thread. Records must become durable, and on_durable be called, in Append order
  // (a log does this naturally): the coordinator's cache follows the order of the callbacks.
  virtual void Append(std::string key, std::optional<std::string> value,
                      absl::AnyInvocable<void(absl::Status)> on_durable) = 0;

  // Replay calls fn for every durable record, oldest first. Errors: kDataLoss (corrupt log), I/O errors.
  virtual absl::Status Replay(
      absl::FunctionRef<void(absl::string_view key, std::optional<absl::string_view> value)> fn) = 0;
};

}  // namespace eddy::broker
