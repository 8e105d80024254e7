// Small helpers around absl::Status: Debian's Abseil (20220623) has no RETURN_IF_ERROR / ASSIGN_OR_RETURN.
//
// EDDY_RETURN_IF_ERROR(expr): evaluates an absl::Status expression, returns it from the enclosing function if
// it is not OK.
// EDDY_ASSIGN_OR_RETURN(lhs, expr): evaluates an absl::StatusOr<T> expression; on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration: `auto x`).
//
// Error codes are used the same way everywhere in Eddy: corrupt data kDataLoss, bad client input
// kInvalidArgument, disk full kResourceExhausted, retriable kUnavailable, fenced kFailedPrecondition, bad
// offset kOutOfRange, missing topic kNotFound.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define EDDY_STATUS_CONCAT_INNER_(a, b) a##b
#define EDDY_STATUS_CONCAT_(a, b) EDDY_STATUS_CONCAT_INNER_(a, b)

#define EDDY_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::absl::Status eddy_status_ = (expr);           \
    if (!eddy_status_.ok()) return eddy_status_;    \
  } while (0)

#define EDDY_ASSIGN_OR_RETURN(lhs, expr) \
  EDDY_ASSIGN_OR_RETURN_IMPL_(EDDY_STATUS_CONCAT_(eddy_statusor_, __LINE__), lhs, expr)

#define EDDY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()
