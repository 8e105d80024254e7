// Segment swap protocol and its recovery. See log_cleaner_swap.h.
#include "broker/log_cleaner_swap.h"

#include <cerrno>
#include <cstdio>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/file_util.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

constexpr absl::string_view kExtensions[] = {".index", ".timeindex", ".log"};  // renamed in this order

std::string PathOf(const std::string& dir, int64_t base, absl::string_view extension, absl::string_view suffix = "") {
  return absl::StrCat(dir, "/", LogSegment::FileName(base, extension), suffix);
}

absl::Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename", absl::StrCat(from, " to ", to), errno);
  return absl::OkStatus();
}

absl::Status Step(const CleanerTestHook& hook, CleanerStep step) { return hook ? hook(step) : absl::OkStatus(); }

// Parses "<20 digits><rest>" into the base offset and the rest (e.g. ".log.swap").
bool ParseName(absl::string_view name, int64_t* base, absl::string_view* rest) {
  constexpr size_t kDigits = 20;
  if (name.size() <= kDigits) return false;
  for (size_t i = 0; i < kDigits; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(name[i]))) return false;
  }
  *rest = name.substr(kDigits);
  return absl::SimpleAtoi(name.substr(0, kDigits), base);
}

// Completes the committed swap <base>.log.swap: deletes the segments it replaced, renames it into place.
absl::Status CompleteSwap(const std::string& dir, int64_t base, const std::set<int64_t>& log_bases,
                          const LogConfig& config, std::string* notes) {
  // The swap's end offset: the cleaned segment ends where the replaced group ended.
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<LogSegment> swap, LogSegment::Open(dir, base, config, kSwapSuffix));
  ScanBuffer buffer;
  EDDY_ASSIGN_OR_RETURN(SegmentScan scan, swap->Recover(0, base, -1, &buffer, /*allow_gaps=*/true));
  const int64_t end = swap->next_offset();
  swap.reset();
  int deleted = 0;
  for (int64_t b : log_bases) {
    if (b <= base || b >= end) continue;
    for (absl::string_view ext : kExtensions) EDDY_RETURN_IF_ERROR(RemoveFile(PathOf(dir, b, ext)));
    ++deleted;
  }
  EDDY_RETURN_IF_ERROR(SyncDir(dir));
  for (absl::string_view ext : kExtensions) {
    const std::string from = PathOf(dir, base, ext, kSwapSuffix);
    if (PathExists(from)) {
      EDDY_RETURN_IF_ERROR(Rename(from, PathOf(dir, base, ext)));
    } else if (ext != ".log") {
      // Never pair the cleaned log with the old segment's index: remove it, Open rebuilds it.
      EDDY_RETURN_IF_ERROR(RemoveFile(PathOf(dir, base, ext)));
    }
  }
  EDDY_RETURN_IF_ERROR(SyncDir(dir));
  absl::StrAppend(notes, "; completed an interrupted compaction swap: segment ", base, " now ends at offset ", end,
                  ", replacing ", deleted, " more segments",
                  scan.stop_reason.empty() ? "" : absl::StrCat(" (", scan.stop_reason, ")"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<LogSegment>> SwapInCleanedSegment(const std::string& dir, int64_t base,
                                                                 absl::Span<const int64_t> replaced_bases,
                                                                 const LogConfig& config, const CleanerTestHook& hook,
                                                                 bool* committed) {
  *committed = false;
  EDDY_RETURN_IF_ERROR(Step(hook, CleanerStep::kCleanedWritten));
  // Commit: indexes first, the log last; <base>.log.swap is what recovery looks for.
  for (absl::string_view ext : kExtensions) {
    if (ext == ".log") EDDY_RETURN_IF_ERROR(Step(hook, CleanerStep::kIndexSwapsRenamed));
    EDDY_RETURN_IF_ERROR(Rename(PathOf(dir, base, ext, kCleanedSuffix), PathOf(dir, base, ext, kSwapSuffix)));
  }
  EDDY_RETURN_IF_ERROR(SyncDir(dir));
  *committed = true;
  EDDY_RETURN_IF_ERROR(Step(hook, CleanerStep::kSwapCommitted));
  // Delete the replaced segments before b0's files are overwritten: recovery must never see the cleaned b0
  // next to segments it replaced.
  for (int64_t b : replaced_bases) {
    if (b == base) continue;
    for (absl::string_view ext : kExtensions) EDDY_RETURN_IF_ERROR(RemoveFile(PathOf(dir, b, ext)));
  }
  EDDY_RETURN_IF_ERROR(SyncDir(dir));
  EDDY_RETURN_IF_ERROR(Step(hook, CleanerStep::kOldSegmentsDeleted));
  for (absl::string_view ext : kExtensions) {
    if (ext == ".log") EDDY_RETURN_IF_ERROR(Step(hook, CleanerStep::kIndexesInPlace));
    EDDY_RETURN_IF_ERROR(Rename(PathOf(dir, base, ext, kSwapSuffix), PathOf(dir, base, ext)));
  }
  // No directory sync needed here: if these renames are lost in a crash, recovery redoes them from the
  // .swap files. The log's next flush syncs the directory (ReplaceSegments marks it dirty).
  EDDY_RETURN_IF_ERROR(Step(hook, CleanerStep::kLogInPlace));
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<LogSegment> seg, LogSegment::Open(dir, base, config));
  absl::Status s = seg->LoadIndexes();
  if (!s.ok()) {
    // Just written, so this is unexpected; reads still work from rebuilt indexes.
    ScanBuffer buffer;
    EDDY_RETURN_IF_ERROR(seg->Recover(0, base, -1, &buffer, /*allow_gaps=*/true).status());
    EDDY_RETURN_IF_ERROR(seg->Seal());
    EDDY_RETURN_IF_ERROR(seg->SyncIndexes());
  }
  seg->set_fully_synced(true);
  return seg;
}

absl::Status RemoveCleanedFiles(const std::string& dir, int64_t base) {
  absl::Status status;
  for (absl::string_view ext : kExtensions) {
    status.Update(RemoveFile(PathOf(dir, base, ext, kCleanedSuffix)));
    if (ext != ".log") status.Update(RemoveFile(PathOf(dir, base, ext, kSwapSuffix)));
  }
  return status;
}

absl::Status CompleteInterruptedSwaps(const std::string& dir, const LogConfig& config, std::string* notes) {
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  std::set<int64_t> swaps, log_bases;
  for (const std::string& name : names) {
    int64_t base;
    absl::string_view rest;
    if (!ParseName(name, &base, &rest)) continue;
    if (rest == ".log.swap") swaps.insert(base);
    if (rest == ".log") log_bases.insert(base);
  }
  for (const std::string& name : names) {
    int64_t base;
    absl::string_view rest;
    if (!ParseName(name, &base, &rest)) continue;
    const bool rolled_back = absl::EndsWith(rest, kCleanedSuffix) ||
                             ((rest == ".index.swap" || rest == ".timeindex.swap") && swaps.count(base) == 0);
    if (rolled_back) EDDY_RETURN_IF_ERROR(RemoveFile(absl::StrCat(dir, "/", name)));
  }
  for (int64_t base : swaps) EDDY_RETURN_IF_ERROR(CompleteSwap(dir, base, log_bases, config, notes));
  return absl::OkStatus();
}

}  // namespace eddy::broker
