// Kafka's protocol error codes (org.apache.kafka.common.protocol.Errors) with Kafka's numbers and names: the
// complete public list, UNKNOWN_SERVER_ERROR (-1) to SHARE_SESSION_LIMIT_REACHED (133). These are what the
// broker puts in the error_code fields of its responses, so the numbers must never change. ErrorName gives
// Kafka's spelling ("ILLEGAL_GENERATION"); ToStatus maps an error to Eddy's canonical absl codes for the
// embedded clients: corrupt data kDataLoss, bad client input kInvalidArgument, retriable kUnavailable, fenced
// member or producer kFailedPrecondition, bad offset kOutOfRange, missing topic/group kNotFound, quota
// kResourceExhausted.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace eddy::broker {

// X(enumerator, Kafka code, Kafka name, absl::StatusCode used by ToStatus)
#define EDDY_KAFKA_ERRORS(X) \
  X(kUnknownServerError, -1, "UNKNOWN_SERVER_ERROR", kInternal) \
  X(kNone, 0, "NONE", kOk) \
  X(kOffsetOutOfRange, 1, "OFFSET_OUT_OF_RANGE", kOutOfRange) \
  X(kCorruptMessage, 2, "CORRUPT_MESSAGE", kDataLoss) \
  X(kUnknownTopicOrPartition, 3, "UNKNOWN_TOPIC_OR_PARTITION", kNotFound) \
  X(kInvalidFetchSize, 4, "INVALID_FETCH_SIZE", kInvalidArgument) \
  X(kLeaderNotAvailable, 5, "LEADER_NOT_AVAILABLE", kUnavailable) \
  X(kNotLeaderOrFollower, 6, "NOT_LEADER_OR_FOLLOWER", kUnavailable) \
  X(kRequestTimedOut, 7, "REQUEST_TIMED_OUT", kDeadlineExceeded) \
  X(kBrokerNotAvailable, 8, "BROKER_NOT_AVAILABLE", kUnavailable) \
  X(kReplicaNotAvailable, 9, "REPLICA_NOT_AVAILABLE", kUnavailable) \
  X(kMessageTooLarge, 10, "MESSAGE_TOO_LARGE", kInvalidArgument) \
  X(kStaleControllerEpoch, 11, "STALE_CONTROLLER_EPOCH", kFailedPrecondition) \
  X(kOffsetMetadataTooLarge, 12, "OFFSET_METADATA_TOO_LARGE", kInvalidArgument) \
  X(kNetworkException, 13, "NETWORK_EXCEPTION", kUnavailable) \
  X(kCoordinatorLoadInProgress, 14, "COORDINATOR_LOAD_IN_PROGRESS", kUnavailable) \
  X(kCoordinatorNotAvailable, 15, "COORDINATOR_NOT_AVAILABLE", kUnavailable) \
  X(kNotCoordinator, 16, "NOT_COORDINATOR", kUnavailable) \
  X(kInvalidTopicException, 17, "INVALID_TOPIC_EXCEPTION", kInvalidArgument) \
  X(kRecordListTooLarge, 18, "RECORD_LIST_TOO_LARGE", kInvalidArgument) \
  X(kNotEnoughReplicas, 19, "NOT_ENOUGH_REPLICAS", kUnavailable) \
  X(kNotEnoughReplicasAfterAppend, 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", kUnavailable) \
  X(kInvalidRequiredAcks, 21, "INVALID_REQUIRED_ACKS", kInvalidArgument) \
  X(kIllegalGeneration, 22, "ILLEGAL_GENERATION", kFailedPrecondition) \
  X(kInconsistentGroupProtocol, 23, "INCONSISTENT_GROUP_PROTOCOL", kInvalidArgument) \
  X(kInvalidGroupId, 24, "INVALID_GROUP_ID", kInvalidArgument) \
  X(kUnknownMemberId, 25, "UNKNOWN_MEMBER_ID", kFailedPrecondition) \
  X(kInvalidSessionTimeout, 26, "INVALID_SESSION_TIMEOUT", kInvalidArgument) \
  X(kRebalanceInProgress, 27, "REBALANCE_IN_PROGRESS", kUnavailable) \
  X(kInvalidCommitOffsetSize, 28, "INVALID_COMMIT_OFFSET_SIZE", kInvalidArgument) \
  X(kTopicAuthorizationFailed, 29, "TOPIC_AUTHORIZATION_FAILED", kPermissionDenied) \
  X(kGroupAuthorizationFailed, 30, "GROUP_AUTHORIZATION_FAILED", kPermissionDenied) \
  X(kClusterAuthorizationFailed, 31, "CLUSTER_AUTHORIZATION_FAILED", kPermissionDenied) \
  X(kInvalidTimestamp, 32, "INVALID_TIMESTAMP", kInvalidArgument) \
  X(kUnsupportedSaslMechanism, 33, "UNSUPPORTED_SASL_MECHANISM", kUnimplemented) \
  X(kIllegalSaslState, 34, "ILLEGAL_SASL_STATE", kInternal) \
  X(kUnsupportedVersion, 35, "UNSUPPORTED_VERSION", kUnimplemented) \
  X(kTopicAlreadyExists, 36, "TOPIC_ALREADY_EXISTS", kAlreadyExists) \
  X(kInvalidPartitions, 37, "INVALID_PARTITIONS", kInvalidArgument) \
  X(kInvalidReplicationFactor, 38, "INVALID_REPLICATION_FACTOR", kInvalidArgument) \
  X(kInvalidReplicaAssignment, 39, "INVALID_REPLICA_ASSIGNMENT", kInvalidArgument) \
  X(kInvalidConfig, 40, "INVALID_CONFIG", kInvalidArgument) \
  X(kNotController, 41, "NOT_CONTROLLER", kUnavailable) \
  X(kInvalidRequest, 42, "INVALID_REQUEST", kInvalidArgument) \
  X(kUnsupportedForMessageFormat, 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", kUnimplemented) \
  X(kPolicyViolation, 44, "POLICY_VIOLATION", kInvalidArgument) \
  X(kOutOfOrderSequenceNumber, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER", kFailedPrecondition) \
  X(kDuplicateSequenceNumber, 46, "DUPLICATE_SEQUENCE_NUMBER", kAlreadyExists) \
  X(kInvalidProducerEpoch, 47, "INVALID_PRODUCER_EPOCH", kFailedPrecondition) \
  X(kInvalidTxnState, 48, "INVALID_TXN_STATE", kFailedPrecondition) \
  X(kInvalidProducerIdMapping, 49, "INVALID_PRODUCER_ID_MAPPING", kFailedPrecondition) \
  X(kInvalidTransactionTimeout, 50, "INVALID_TRANSACTION_TIMEOUT", kInvalidArgument) \
  X(kConcurrentTransactions, 51, "CONCURRENT_TRANSACTIONS", kUnavailable) \
  X(kTransactionCoordinatorFenced, 52, "TRANSACTION_COORDINATOR_FENCED", kFailedPrecondition) \
  X(kTransactionalIdAuthorizationFailed, 53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", kPermissionDenied) \
  X(kSecurityDisabled, 54, "SECURITY_DISABLED", kUnimplemented) \
  X(kOperationNotAttempted, 55, "OPERATION_NOT_ATTEMPTED", kAborted) \
  X(kKafkaStorageError, 56, "KAFKA_STORAGE_ERROR", kUnavailable) \
  X(kLogDirNotFound, 57, "LOG_DIR_NOT_FOUND", kNotFound) \
  X(kSaslAuthenticationFailed, 58, "SASL_AUTHENTICATION_FAILED", kUnauthenticated) \
  X(kUnknownProducerId, 59, "UNKNOWN_PRODUCER_ID", kFailedPrecondition) \
  X(kReassignmentInProgress, 60, "REASSIGNMENT_IN_PROGRESS", kFailedPrecondition) \
  X(kDelegationTokenAuthDisabled, 61, "DELEGATION_TOKEN_AUTH_DISABLED", kUnimplemented) \
  X(kDelegationTokenNotFound, 62, "DELEGATION_TOKEN_NOT_FOUND", kNotFound) \
  X(kDelegationTokenOwnerMismatch, 63, "DELEGATION_TOKEN_OWNER_MISMATCH", kInternal) \
  X(kDelegationTokenRequestNotAllowed, 64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", kInternal) \
  X(kDelegationTokenAuthorizationFailed, 65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", kPermissionDenied) \
  X(kDelegationTokenExpired, 66, "DELEGATION_TOKEN_EXPIRED", kInternal) \
  X(kInvalidPrincipalType, 67, "INVALID_PRINCIPAL_TYPE", kInvalidArgument) \
  X(kNonEmptyGroup, 68, "NON_EMPTY_GROUP", kFailedPrecondition) \
  X(kGroupIdNotFound, 69, "GROUP_ID_NOT_FOUND", kNotFound) \
  X(kFetchSessionIdNotFound, 70, "FETCH_SESSION_ID_NOT_FOUND", kUnavailable) \
  X(kInvalidFetchSessionEpoch, 71, "INVALID_FETCH_SESSION_EPOCH", kUnavailable) \
  X(kListenerNotFound, 72, "LISTENER_NOT_FOUND", kInternal) \
  X(kTopicDeletionDisabled, 73, "TOPIC_DELETION_DISABLED", kUnimplemented) \
  X(kFencedLeaderEpoch, 74, "FENCED_LEADER_EPOCH", kFailedPrecondition) \
  X(kUnknownLeaderEpoch, 75, "UNKNOWN_LEADER_EPOCH", kUnavailable) \
  X(kUnsupportedCompressionType, 76, "UNSUPPORTED_COMPRESSION_TYPE", kUnimplemented) \
  X(kStaleBrokerEpoch, 77, "STALE_BROKER_EPOCH", kFailedPrecondition) \
  X(kOffsetNotAvailable, 78, "OFFSET_NOT_AVAILABLE", kUnavailable) \
  X(kMemberIdRequired, 79, "MEMBER_ID_REQUIRED", kFailedPrecondition) \
  X(kPreferredLeaderNotAvailable, 80, "PREFERRED_LEADER_NOT_AVAILABLE", kUnavailable) \
  X(kGroupMaxSizeReached, 81, "GROUP_MAX_SIZE_REACHED", kResourceExhausted) \
  X(kFencedInstanceId, 82, "FENCED_INSTANCE_ID", kFailedPrecondition) \
  X(kEligibleLeadersNotAvailable, 83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", kUnavailable) \
  X(kElectionNotNeeded, 84, "ELECTION_NOT_NEEDED", kFailedPrecondition) \
  X(kNoReassignmentInProgress, 85, "NO_REASSIGNMENT_IN_PROGRESS", kFailedPrecondition) \
  X(kGroupSubscribedToTopic, 86, "GROUP_SUBSCRIBED_TO_TOPIC", kFailedPrecondition) \
  X(kInvalidRecord, 87, "INVALID_RECORD", kInvalidArgument) \
  X(kUnstableOffsetCommit, 88, "UNSTABLE_OFFSET_COMMIT", kUnavailable) \
  X(kThrottlingQuotaExceeded, 89, "THROTTLING_QUOTA_EXCEEDED", kResourceExhausted) \
  X(kProducerFenced, 90, "PRODUCER_FENCED", kFailedPrecondition) \
  X(kResourceNotFound, 91, "RESOURCE_NOT_FOUND", kNotFound) \
  X(kDuplicateResource, 92, "DUPLICATE_RESOURCE", kInvalidArgument) \
  X(kUnacceptableCredential, 93, "UNACCEPTABLE_CREDENTIAL", kInvalidArgument) \
  X(kInconsistentVoterSet, 94, "INCONSISTENT_VOTER_SET", kInternal) \
  X(kInvalidUpdateVersion, 95, "INVALID_UPDATE_VERSION", kInvalidArgument) \
  X(kFeatureUpdateFailed, 96, "FEATURE_UPDATE_FAILED", kInternal) \
  X(kPrincipalDeserializationFailure, 97, "PRINCIPAL_DESERIALIZATION_FAILURE", kInternal) \
  X(kSnapshotNotFound, 98, "SNAPSHOT_NOT_FOUND", kNotFound) \
  X(kPositionOutOfRange, 99, "POSITION_OUT_OF_RANGE", kOutOfRange) \
  X(kUnknownTopicId, 100, "UNKNOWN_TOPIC_ID", kNotFound) \
  X(kDuplicateBrokerRegistration, 101, "DUPLICATE_BROKER_REGISTRATION", kAlreadyExists) \
  X(kBrokerIdNotRegistered, 102, "BROKER_ID_NOT_REGISTERED", kInternal) \
  X(kInconsistentTopicId, 103, "INCONSISTENT_TOPIC_ID", kInternal) \
  X(kInconsistentClusterId, 104, "INCONSISTENT_CLUSTER_ID", kInternal) \
  X(kTransactionalIdNotFound, 105, "TRANSACTIONAL_ID_NOT_FOUND", kNotFound) \
  X(kFetchSessionTopicIdError, 106, "FETCH_SESSION_TOPIC_ID_ERROR", kInternal) \
  X(kIneligibleReplica, 107, "INELIGIBLE_REPLICA", kInternal) \
  X(kNewLeaderElected, 108, "NEW_LEADER_ELECTED", kInternal) \
  X(kOffsetMovedToTieredStorage, 109, "OFFSET_MOVED_TO_TIERED_STORAGE", kInternal) \
  X(kFencedMemberEpoch, 110, "FENCED_MEMBER_EPOCH", kFailedPrecondition) \
  X(kUnreleasedInstanceId, 111, "UNRELEASED_INSTANCE_ID", kFailedPrecondition) \
  X(kUnsupportedAssignor, 112, "UNSUPPORTED_ASSIGNOR", kInvalidArgument) \
  X(kStaleMemberEpoch, 113, "STALE_MEMBER_EPOCH", kFailedPrecondition) \
  X(kMismatchedEndpointType, 114, "MISMATCHED_ENDPOINT_TYPE", kInternal) \
  X(kUnsupportedEndpointType, 115, "UNSUPPORTED_ENDPOINT_TYPE", kUnimplemented) \
  X(kUnknownControllerId, 116, "UNKNOWN_CONTROLLER_ID", kInternal) \
  X(kUnknownSubscriptionId, 117, "UNKNOWN_SUBSCRIPTION_ID", kInternal) \
  X(kTelemetryTooLarge, 118, "TELEMETRY_TOO_LARGE", kInvalidArgument) \
  X(kInvalidRegistration, 119, "INVALID_REGISTRATION", kInternal) \
  X(kTransactionAbortable, 120, "TRANSACTION_ABORTABLE", kAborted) \
  X(kInvalidRecordState, 121, "INVALID_RECORD_STATE", kInternal) \
  X(kShareSessionNotFound, 122, "SHARE_SESSION_NOT_FOUND", kNotFound) \
  X(kInvalidShareSessionEpoch, 123, "INVALID_SHARE_SESSION_EPOCH", kFailedPrecondition) \
  X(kFencedStateEpoch, 124, "FENCED_STATE_EPOCH", kFailedPrecondition) \
  X(kInvalidVoterKey, 125, "INVALID_VOTER_KEY", kInternal) \
  X(kDuplicateVoter, 126, "DUPLICATE_VOTER", kAlreadyExists) \
  X(kVoterNotFound, 127, "VOTER_NOT_FOUND", kNotFound) \
  X(kInvalidRegularExpression, 128, "INVALID_REGULAR_EXPRESSION", kInvalidArgument) \
  X(kRebootstrapRequired, 129, "REBOOTSTRAP_REQUIRED", kUnavailable) \
  X(kStreamsInvalidTopology, 130, "STREAMS_INVALID_TOPOLOGY", kInvalidArgument) \
  X(kStreamsInvalidTopologyEpoch, 131, "STREAMS_INVALID_TOPOLOGY_EPOCH", kFailedPrecondition) \
  X(kStreamsTopologyFenced, 132, "STREAMS_TOPOLOGY_FENCED", kFailedPrecondition) \
  X(kShareSessionLimitReached, 133, "SHARE_SESSION_LIMIT_REACHED", kResourceExhausted)

// A Kafka error code. Enumerators follow Google style (kIllegalGeneration); ErrorName returns Kafka's name.
enum class ErrorCode : int16_t {
#define EDDY_KAFKA_ERROR_ENUM_(name, code, kafka_name, status) name = code,
  EDDY_KAFKA_ERRORS(EDDY_KAFKA_ERROR_ENUM_)
#undef EDDY_KAFKA_ERROR_ENUM_
};

// ErrorName returns Kafka's name of `code` ("NONE", "REBALANCE_IN_PROGRESS"), or "UNKNOWN_ERROR_CODE" for a
// number Kafka does not define.
const char* ErrorName(ErrorCode code);

// IsKnownErrorCode reports whether `code` is one of Kafka's error numbers.
bool IsKnownErrorCode(int16_t code);

// ToStatus returns OkStatus for kNone, otherwise a status with the canonical code listed above and a message
// "<context>: <KAFKA_NAME> (<number>)".
absl::Status ToStatus(ErrorCode code, absl::string_view context);

// WithKafkaError attaches `code` to `status` (which must not be OK) as a payload, keeping its canonical code
// and message: a layer below the protocol (PartitionLog::Append) says exactly which Kafka error a failure
// is, where the canonical code alone is ambiguous (MESSAGE_TOO_LARGE and INVALID_RECORD are both
// kInvalidArgument).
absl::Status WithKafkaError(absl::Status status, ErrorCode code);
// KafkaErrorOf returns the code attached by WithKafkaError, or nullopt.
std::optional<ErrorCode> KafkaErrorOf(const absl::Status& status);

}  // namespace eddy::broker
