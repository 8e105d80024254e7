// Text renderings of topic and group descriptions, shared by `eddy topics describe`, `eddy groups
// describe` and `eddy demo`. Layouts follow kafka-topics --describe and kafka-consumer-groups --describe
// so Kafka users read them at a glance (with start/end offsets where Kafka shows leaders and replicas).
#pragma once

#include <string>

#include "eddy/core/admin.h"

namespace eddy::cli {

// FormatTopicDescription:
//   Topic: orders	PartitionCount: 3	Configs: retention.ms=1000
//   	Topic: orders	Partition: 0	StartOffset: 0	EndOffset: 7
std::string FormatTopicDescription(const TopicDescription& topic);

// FormatGroupDescription: a note when the group has no active members, then one aligned row per
// partition: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID ("-" for
// unknown values, as Kafka prints them).
std::string FormatGroupDescription(const GroupDescription& group);

}  // namespace eddy::cli
