// TaskId: names one task, the unit the runtime schedules: one sub-topology instantiated for one partition
// number of its source topics. Printed and parsed as Kafka does: "<subtopology>_<partition>", e.g. "0_3".
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy {

struct TaskId {
  int32_t subtopology = 0;
  int32_t partition = 0;

  // "0_3".
  std::string ToString() const;
  // Parse reads "<subtopology>_<partition>"; kInvalidArgument otherwise.
  static absl::StatusOr<TaskId> Parse(absl::string_view text);

  friend bool operator==(const TaskId&, const TaskId&) = default;
  friend auto operator<=>(const TaskId&, const TaskId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TaskId& id) {
    return H::combine(std::move(h), id.subtopology, id.partition);
  }
};

}  // namespace eddy
