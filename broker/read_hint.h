// ReadHint: a reader's note of where its last read of a partition log stopped (PartitionLog::ReadSlices).
#pragma once

#include <cstdint>

namespace eddy::broker {

// ReadHint: where a reader's last read stopped, when that is known without reading more: at the log end,
// or before the batch that max_bytes left out (its header, or that of the one batch kept, was read to
// find the cut): the segment, the offset that comes next and its position. Handed back to the next read
// from that offset, it replaces the offset-index lookup and the walk over batch headers (preads) with a
// compare: what a consumer reading the tail, or catching up in max_bytes steps, pays on every fetch. Kept
// by the reader (one per partition it reads); any mismatch (another offset, a rolled or cleaned segment)
// falls back to the lookup.
struct ReadHint {
  uint64_t segment_id = 0;  // 0: no hint
  int64_t offset = -1;
  int64_t position = 0;
};

}  // namespace eddy::broker
