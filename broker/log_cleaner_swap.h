// The on-disk protocol by which the log cleaner replaces sealed segments with a cleaned one, and its
// recovery at open (Kafka's .cleaned / .swap files, LogLoader's swap completion). docs/log-compaction.md
// ("Crash safety") describes it; in short, for a group of segments b0 < b1 < ... < bk replaced by a cleaned
// segment named b0:
//
//   1. <b0>.log.cleaned, .index.cleaned, .timeindex.cleaned are written and fsynced.
//   2. The two index files are renamed to .swap, then the log: <b0>.log.swap exists = the swap is
//      committed; the directory is fsynced.
//   3. The replaced segments other than b0 (b1..bk) are unlinked; the directory is fsynced.
//   4. The .swap files are renamed over b0's files, indexes first, log last (the directory is fsynced by
//      the log's next flush: if these renames are lost, recovery redoes them).
//
// A crash before <b0>.log.swap exists rolls back (recovery deletes *.cleaned and index .swap files
// without a log .swap); after it, recovery completes steps 3 and 4. The cleaned segment's last batch
// always ends where the group ended (the cleaner keeps the group's last batch, empty if need be), so the
// swap file itself says which segments it replaces: those with base offsets in (b0, its end).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "broker/log_config.h"
#include "broker/log_segment.h"

namespace eddy::broker {

inline constexpr absl::string_view kCleanedSuffix = ".cleaned";
inline constexpr absl::string_view kSwapSuffix = ".swap";

// The points of a cleaning where a test may stop the cleaner as if the process had crashed there.
enum class CleanerStep {
  kCleanedWritten,      // the .cleaned files are complete and fsynced
  kIndexSwapsRenamed,   // the index files were renamed to .swap, the log not yet
  kSwapCommitted,       // <b0>.log.swap exists and the directory was fsynced
  kOldSegmentsDeleted,  // b1..bk are unlinked
  kIndexesInPlace,      // the index .swap files were renamed over b0's
  kLogInPlace,          // <b0>.log.swap was renamed over <b0>.log (the in-memory swap comes next)
};

// A test hook: called at each step; a non-OK status stops the cleaning there and leaves the files as they
// are, as a crash would (no cleanup). Null in production.
using CleanerTestHook = std::function<absl::Status(CleanerStep)>;

// SwapInCleanedSegment runs steps 2-4 for the cleaned segment <base>.*.cleaned (complete and fsynced)
// replacing the segments whose base offsets are `replaced_bases` (base first, ascending), then opens the
// result under its final name with its indexes loaded. Sets *committed after step 2. Errors: file system
// errors; whatever `hook` returns.
absl::StatusOr<std::shared_ptr<LogSegment>> SwapInCleanedSegment(const std::string& dir, int64_t base,
                                                                 absl::Span<const int64_t> replaced_bases,
                                                                 const LogConfig& config, const CleanerTestHook& hook,
                                                                 bool* committed);

// RemoveCleanedFiles unlinks <base>.*.cleaned and <base>.*index.swap: the cleaner gave up before committing.
absl::Status RemoveCleanedFiles(const std::string& dir, int64_t base);

// CompleteInterruptedSwaps is the recovery of a partition directory at open, before its segments are
// listed: it deletes *.cleaned files and index .swap files without their log .swap (roll back), and for
// each <b0>.log.swap deletes the segments it replaced and renames it into place (roll forward). A missing
// index .swap makes it delete b0's old index so that Open rebuilds it. Appends a note per completed swap
// to *notes. Errors: file system errors.
absl::Status CompleteInterruptedSwaps(const std::string& dir, const LogConfig& config, std::string* notes);

}  // namespace eddy::broker
