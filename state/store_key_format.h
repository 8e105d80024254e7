// Byte layouts of the keys that window and session stores keep in RocksDB, in memory, in the thread cache
// and in their changelog topics. They are Kafka Streams' WindowKeySchema and SessionKeySchema, so that the
// order of bytewise-compared keys is the order the stores iterate in, and a changelog written by Eddy has
// the key layout a Kafka Streams application expects. Spec: docs/state.md, "On-disk formats".
//
//   key-value store key   key bytes, as given
//   window store key      key bytes | window start: 8 bytes big-endian int64 ms | seqnum: 4 bytes big-endian
//   session store key     key bytes | session end: 8 bytes big-endian int64 ms | session start: 8 bytes BE
//   segmented cache key   segment id: 8 bytes big-endian | window or session store key
//
// The seqnum is always present, 0 unless the store retains duplicates (then 1, 2, ... per put, wrapping
// at 2^31 as Kafka's), so the layout does not depend on the store's configuration. Timestamps are never
// negative (the stores reject negative ones), so big-endian order is numeric order. Keys of different
// lengths interleave ("a" + time sorts among "a\x00..."), so every scan checks the key length as well.
//
// Segments: a window or session store splits its data by time into segments of `segment_interval` ms
// (Kafka's default max(retention / 2, 60000)); segment id = time / segment_interval, where time is the
// window start (window stores) or the session end (session stores). A persistent segmented store keeps
// each segment as a key range of RocksDB's default column family: its keys prefixed with the segment id
// (8 bytes, big-endian), so that an expired segment is dropped whole with a range delete (metadata beside
// them under names prefixed with 0xff; stores of earlier layouts are converted when opened: see
// rocksdb_backend.cc). Values are stored as given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/internal/endian.h"
#include "absl/strings/string_view.h"

namespace eddy::state_internal {

inline constexpr size_t kTimestampSize = 8;
inline constexpr size_t kSeqnumSize = 4;
inline constexpr size_t kWindowSuffixSize = kTimestampSize + kSeqnumSize;  // 12
inline constexpr size_t kSessionSuffixSize = 2 * kTimestampSize;          // 16
inline constexpr size_t kSegmentPrefixSize = 8;
inline constexpr char kSegmentColumnFamilyPrefix[] = "segment.";

inline void AppendBigEndian64(int64_t v, std::string* out) {
  char buf[8];
  absl::big_endian::Store64(buf, static_cast<uint64_t>(v));
  out->append(buf, 8);
}
inline int64_t LoadBigEndian64(const char* p) { return static_cast<int64_t>(absl::big_endian::Load64(p)); }

// --- Window store keys. ---
// Replaces *out with key | window_start | seqnum.
inline void EncodeWindowKey(absl::string_view key, int64_t window_start, uint32_t seqnum, std::string* out) {
  out->assign(key.data(), key.size());
  AppendBigEndian64(window_start, out);
  char buf[4];
  absl::big_endian::Store32(buf, seqnum);
  out->append(buf, 4);
}
// REQUIRES (all three): store_key.size() >= kWindowSuffixSize.
inline absl::string_view WindowKeyKey(absl::string_view store_key) {
  return store_key.substr(0, store_key.size() - kWindowSuffixSize);
}
inline int64_t WindowKeyStart(absl::string_view store_key) {
  return LoadBigEndian64(store_key.data() + store_key.size() - kWindowSuffixSize);
}
inline uint32_t WindowKeySeqnum(absl::string_view store_key) {
  return absl::big_endian::Load32(store_key.data() + store_key.size() - kSeqnumSize);
}

// --- Session store keys. ---
// Replaces *out with key | end | start.
inline void EncodeSessionKey(absl::string_view key, int64_t start, int64_t end, std::string* out) {
  out->assign(key.data(), key.size());
  AppendBigEndian64(end, out);
  AppendBigEndian64(start, out);
}
// REQUIRES (all three): store_key.size() >= kSessionSuffixSize.
inline absl::string_view SessionKeyKey(absl::string_view store_key) {
  return store_key.substr(0, store_key.size() - kSessionSuffixSize);
}
inline int64_t SessionKeyEnd(absl::string_view store_key) {
  return LoadBigEndian64(store_key.data() + store_key.size() - kSessionSuffixSize);
}
inline int64_t SessionKeyStart(absl::string_view store_key) {
  return LoadBigEndian64(store_key.data() + store_key.size() - kTimestampSize);
}

// --- Segments. ---
// SegmentId returns the segment that holds `time`; -1 for negative times (before every segment).
inline int64_t SegmentId(int64_t time, int64_t segment_interval) {
  return time < 0 ? -1 : time / segment_interval;
}
// Replaces *out with the cache key of `store_key` in `segment`; also the key a persistent segmented store
// keeps in RocksDB (rocksdb_backend.cc).
inline void EncodeSegmentedCacheKey(int64_t segment, absl::string_view store_key, std::string* out) {
  out->clear();
  AppendBigEndian64(segment, out);
  out->append(store_key.data(), store_key.size());
}
// Replaces *out with the first key after all of segment's keys (computed unsigned: after the largest id
// comes 0x80..., past every id).
inline void EncodeSegmentEnd(int64_t segment, std::string* out) {
  EncodeSegmentedCacheKey(static_cast<int64_t>(static_cast<uint64_t>(segment) + 1), "", out);
}
// The range [*from, *to) of segment's keys in [lower, upper) (upper nullopt: to the segment's end).
inline void EncodeSegmentedRange(int64_t segment, absl::string_view lower, std::optional<absl::string_view> upper,
                                 std::string* from, std::string* to) {
  EncodeSegmentedCacheKey(segment, lower, from);
  if (upper.has_value()) {
    EncodeSegmentedCacheKey(segment, *upper, to);
  } else {
    EncodeSegmentEnd(segment, to);
  }
}

}  // namespace eddy::state_internal
