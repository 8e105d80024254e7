// EnsureChangelogTopics and ChangelogTopicFor (state_manager.h): Kafka Streams' InternalTopicManager for
// changelog topics.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "eddy/runtime/state_manager.h"

namespace eddy {
namespace {

absl::Status CheckPartitions(Admin& admin, const ChangelogTopicSpec& spec) {
  EDDY_ASSIGN_OR_RETURN(TopicDescription existing, admin.DescribeTopic(spec.name));
  const int32_t actual = static_cast<int32_t>(existing.partitions.size());
  if (actual != spec.partitions) {
    return absl::FailedPreconditionError(absl::StrCat(
        "existing changelog topic ", spec.name, " has invalid partitions: expected: ", spec.partitions,
        "; actual: ", actual, ". Delete it (or reset the application) before processing"));
  }
  return absl::OkStatus();
}

}  // namespace

ChangelogTopicSpec ChangelogTopicFor(absl::string_view application_id, const StateStore& store,
                                     int32_t partitions) {
  return ChangelogTopicSpec{ChangelogTopicName(application_id, store.name()), partitions,
                            store.changelog_config()};
}

absl::Status EnsureChangelogTopics(Admin& admin, absl::Span<const ChangelogTopicSpec> topics) {
  for (const ChangelogTopicSpec& spec : topics) {
    if (spec.partitions < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("changelog topic ", spec.name, ": ", spec.partitions, " partitions"));
    }
    absl::Status checked = CheckPartitions(admin, spec);
    if (checked.code() != absl::StatusCode::kNotFound) {
      EDDY_RETURN_IF_ERROR(checked);
      continue;
    }
    const absl::Status created = admin.CreateTopic(NewTopic{spec.name, spec.partitions, spec.configs});
    if (created.code() == absl::StatusCode::kAlreadyExists) {  // another instance was faster
      EDDY_RETURN_IF_ERROR(CheckPartitions(admin, spec));
    } else if (!created.ok()) {
      return absl::Status(created.code(),
                          absl::StrCat("creating changelog topic ", spec.name, ": ", created.message()));
    } else {
      std::fprintf(stderr, "eddy: created changelog topic %s (%d partitions)\n", spec.name.c_str(),
                   spec.partitions);
    }
  }
  return absl::OkStatus();
}

}  // namespace eddy
