// The RocksDB Backend. Options follow Kafka Streams' RocksDBStore where they matter: no compression, 16 MiB
// write buffers (3 of them), 4 KiB blocks with a bloom filter, universal compaction, a block cache shared
// per stream thread, writes with the WAL disabled (the changelog is the durability; Flush flushes the
// memtables so that a checkpoint written after it is true after a crash).
//
// Segmented stores keep every segment in the default column family as a key range: each key is prefixed by
// its segment id (8 bytes big-endian, so its first byte is at most 0x7f), and a segment is dropped with
// DeleteFilesInRanges and DeleteRange. Their metadata sits beside it under names prefixed with 0xff, with a
// layout marker. One column family: a column family's creation costs an OPTIONS file written and parsed
// back. Stores of the two earlier layouts (a column family per segment, "segment.<start>", or all segments in
// a column family "segments"; metadata under bare names) are converted when opened.
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/container/btree_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "eddy/state/block_cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "state/backend.h"
#include "state/block_cache_rep.h"
#include "state/merged_iterator.h"
#include "state/rocksdb_status.h"
#include "state/store_key_format.h"

namespace eddy::state_internal {
namespace {

inline absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }
inline rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksDbIterator final : public KeyValueIterator {
 public:
  // `strip`: bytes of every key (the segment prefix) that key() leaves out.
  RocksDbIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, absl::string_view lower,
                  std::optional<absl::string_view> upper, const std::string& path, size_t strip = 0)
      : path_(path), strip_(strip) {
    rocksdb::ReadOptions ro;
    if (upper.has_value()) {
      upper_.assign(upper->data(), upper->size());
      upper_slice_ = rocksdb::Slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));
    it_->Seek(ToSlice(lower));
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  absl::string_view key() const override { return View(it_->key()).substr(strip_); }
  absl::string_view value() const override { return View(it_->value()); }
  absl::Status status() const override { return FromRocksDb(it_->status(), path_); }

 private:
  const std::string& path_;
  const size_t strip_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;  // last: destroyed before the bound it reads
};

// The column family that held a segmented store's data in the layout before this one.
constexpr char kSegmentsColumnFamily[] = "segments";
// Metadata names are prefixed with this byte (no segment prefix starts with it), and the layout marker is one.
constexpr char kMetadataPrefix = '\xff';
constexpr absl::string_view kLayoutKey = "\xff" "eddy.layout";
constexpr absl::string_view kLayout = "segments-in-default/1";
// Every segment key sorts before this.
constexpr absl::string_view kSegmentsEnd = "\x80";

// The first key of segment `id`'s range.
struct SegmentPrefix {
  char bytes[kSegmentPrefixSize];
  explicit SegmentPrefix(int64_t id) { absl::big_endian::Store64(bytes, static_cast<uint64_t>(id)); }
  rocksdb::Slice slice() const { return rocksdb::Slice(bytes, kSegmentPrefixSize); }
};

class RocksDbBackend final : public Backend {
 public:
  RocksDbBackend(std::string path, int64_t segment_interval) : path_(std::move(path)), interval_(segment_interval) {
    write_options_.disableWAL = true;
  }
  ~RocksDbBackend() override { (void)Close(); }

  absl::Status Open(BlockCache* block_cache) {
    std::error_code ec;
    std::filesystem::create_directories(path_, ec);
    if (ec) return absl::InternalError(absl::StrCat("creating ", path_, ": ", ec.message()));
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = block_cache != nullptr ? block_cache->rep().cache
                                               : rocksdb::NewLRUCache(BlockCache::kDefaultCapacity);
    table.block_size = 4096;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options_.create_if_missing = true;
    options_.create_missing_column_families = true;
    options_.compression = rocksdb::kNoCompression;
    options_.write_buffer_size = 16 << 20;
    options_.max_write_buffer_number = 3;
    options_.compaction_style = rocksdb::kCompactionStyleUniversal;
    options_.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;
    options_.keep_log_file_num = 2;
    // The default, 16 threads per column family on open, costs more than it saves for stores this size.
    options_.max_file_opening_threads = 1;
    // RocksDB reserves 4 MiB for each new MANIFEST (the default); on tmpfs that reservation is memory
    // zeroed and then trimmed at close, about 1% of a stream thread's CPU when tasks open fresh stores.
    // A store's MANIFEST holds a few KiB of edits (one per flush and column family change).
    options_.manifest_preallocation_size = 64 << 10;

    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options_, path_, &names).ok()) names.clear();  // a new database
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, options_);
    std::vector<int64_t> old_ids;  // per column family after the default: its segment id, or -1 for "segments"
    for (const std::string& name : names) {
      if (name == rocksdb::kDefaultColumnFamilyName) continue;
      if (interval_ > 0 && name == kSegmentsColumnFamily) {
        descriptors.emplace_back(name, options_);
        old_ids.push_back(-1);
        continue;
      }
      int64_t start = 0;
      if (interval_ == 0 || !absl::StartsWith(name, kSegmentColumnFamilyPrefix) ||
          !absl::SimpleAtoi(absl::string_view(name).substr(sizeof(kSegmentColumnFamilyPrefix) - 1), &start) ||
          start < 0 || start % interval_ != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "rocksdb ", path_, ": column family '", name,
            "' does not belong to this store (created as another store type or segment interval?)"));
      }
      descriptors.emplace_back(name, options_);
      old_ids.push_back(start / interval_);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    EDDY_RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::Open(options_, path_, descriptors, &handles, &db), path_));
    db_.reset(db);
    default_cf_ = handles[0];
    if (interval_ == 0) return absl::OkStatus();
    absl::Status st = MarkLayout();
    for (size_t i = 0; i < old_ids.size() && st.ok(); ++i) st = ConvertOldFamily(old_ids[i], handles[i + 1]);
    for (size_t i = 1; i < handles.size(); ++i) (void)db_->DestroyColumnFamilyHandle(handles[i]);
    EDDY_RETURN_IF_ERROR(st);
    return FindSegments();
  }

  bool persistent() const override { return true; }

  absl::StatusOr<bool> Get(int64_t segment, absl::string_view key, std::string* value) override {
    rocksdb::Status s;
    if (interval_ == 0) {
      s = db_->Get(rocksdb::ReadOptions(), default_cf_, ToSlice(key), value);
    } else {
      if (!segments_.contains(segment)) return false;
      EncodeSegmentedCacheKey(segment, key, &key_);
      s = db_->Get(rocksdb::ReadOptions(), default_cf_, key_, value);
    }
    if (s.IsNotFound()) return false;
    EDDY_RETURN_IF_ERROR(FromRocksDb(s, path_));
    return true;
  }

  absl::Status Write(absl::Span<const BackendWrite> writes) override {
    batch_.Clear();
    for (const BackendWrite& w : writes) {
      rocksdb::Status s;
      if (interval_ == 0) {
        s = w.value.has_value() ? batch_.Put(default_cf_, ToSlice(w.key), ToSlice(*w.value))
                                : batch_.Delete(default_cf_, ToSlice(w.key));
      } else {
        if (w.segment < 0) return absl::InvalidArgumentError("negative segment");
        segments_.insert(w.segment);
        const SegmentPrefix prefix(w.segment);
        const rocksdb::Slice parts[2] = {prefix.slice(), ToSlice(w.key)};
        const rocksdb::SliceParts key(parts, 2);
        if (w.value.has_value()) {
          const rocksdb::Slice value = ToSlice(*w.value);
          s = batch_.Put(default_cf_, key, rocksdb::SliceParts(&value, 1));
        } else {
          s = batch_.Delete(default_cf_, key);
        }
      }
      EDDY_RETURN_IF_ERROR(FromRocksDb(s, path_));
    }
    return FromRocksDb(db_->Write(write_options_, &batch_), path_);
  }

  std::unique_ptr<KeyValueIterator> NewIterator(int64_t segment, absl::string_view lower,
                                                std::optional<absl::string_view> upper) override {
    if (interval_ == 0) return std::make_unique<RocksDbIterator>(db_.get(), default_cf_, lower, upper, path_);
    if (!segments_.contains(segment)) return std::make_unique<EmptyIterator>();
    std::string from, to;
    EncodeSegmentedRange(segment, lower, upper, &from, &to);
    return std::make_unique<RocksDbIterator>(db_.get(), default_cf_, from, to, path_, kSegmentPrefixSize);
  }

  std::vector<int64_t> Segments() const override {
    if (interval_ == 0) return {0};
    return std::vector<int64_t>(segments_.begin(), segments_.end());
  }

  absl::Status DropSegmentsBefore(int64_t segment) override {
    if (interval_ == 0 || segments_.empty() || *segments_.begin() >= segment) return absl::OkStatus();
    const SegmentPrefix first(*segments_.begin()), end(segment);
    const rocksdb::Slice from = first.slice(), to = end.slice();
    // SST files below L0 wholly inside the range go at once (their space too); DeleteRange hides the rest,
    // and compactions reclaim its space. Open iterators keep the files they read until they are destroyed.
    const rocksdb::RangePtr range(&from, &to);
    EDDY_RETURN_IF_ERROR(
        FromRocksDb(rocksdb::DeleteFilesInRanges(db_.get(), default_cf_, &range, 1, /*include_end=*/false), path_));
    EDDY_RETURN_IF_ERROR(FromRocksDb(db_->DeleteRange(write_options_, default_cf_, from, to), path_));
    segments_.erase(segments_.begin(), segments_.lower_bound(segment));
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view name) override {
    if (interval_ == 0) return absl::UnimplementedError("key-value stores keep no metadata");
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, MetadataKey(name), &value);
    if (s.IsNotFound()) return std::nullopt;
    EDDY_RETURN_IF_ERROR(FromRocksDb(s, path_));
    return value;
  }

  absl::Status PutMetadata(absl::string_view name, absl::string_view value) override {
    if (interval_ == 0) return absl::UnimplementedError("key-value stores keep no metadata");
    return FromRocksDb(db_->Put(write_options_, default_cf_, MetadataKey(name), ToSlice(value)), path_);
  }

  absl::StatusOr<uint64_t> ApproximateNumEntries() override {
    uint64_t n = 0;
    if (!db_->GetIntProperty(default_cf_, "rocksdb.estimate-num-keys", &n)) return 0;
    return n;
  }

  absl::StatusOr<bool> Empty() override {
    rocksdb::ReadOptions ro;
    const rocksdb::Slice end = ToSlice(kSegmentsEnd);
    if (interval_ > 0) ro.iterate_upper_bound = &end;  // not the metadata
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, default_cf_));
    it->SeekToFirst();
    EDDY_RETURN_IF_ERROR(FromRocksDb(it->status(), path_));
    return !it->Valid();
  }

  absl::Status Flush() override {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    return FromRocksDb(db_->Flush(fo, default_cf_), path_);
  }

  absl::Status Close() override {
    if (db_ == nullptr) return absl::OkStatus();
    (void)db_->DestroyColumnFamilyHandle(default_cf_);
    default_cf_ = nullptr;
    segments_.clear();
    rocksdb::Status s = db_->Close();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(IngestDir(), ec);
    return FromRocksDb(s, path_);
  }

  bool SupportsIngest() const override { return true; }

  absl::Status IngestSorted(int64_t segment, absl::Span<const BackendWrite> sorted) override {
    if (sorted.empty()) return absl::OkStatus();
    if (interval_ > 0 && segment < 0) return absl::InvalidArgumentError("negative segment");
    std::error_code ec;
    std::filesystem::create_directories(IngestDir(), ec);
    if (ec) return absl::InternalError(absl::StrCat("creating ", IngestDir(), ": ", ec.message()));
    std::string file = absl::StrCat(IngestDir(), "/", ingest_files_++, ".sst");
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options_, default_cf_);
    EDDY_RETURN_IF_ERROR(FromRocksDb(writer.Open(file), file));
    for (const BackendWrite& w : sorted) {
      rocksdb::Slice key = ToSlice(w.key);
      if (interval_ > 0) {  // the same prefix on every key keeps them sorted
        EncodeSegmentedCacheKey(segment, w.key, &key_);
        key = key_;
      }
      rocksdb::Status s = w.value.has_value() ? writer.Put(key, ToSlice(*w.value)) : writer.Delete(key);
      EDDY_RETURN_IF_ERROR(FromRocksDb(s, file));
    }
    EDDY_RETURN_IF_ERROR(FromRocksDb(writer.Finish(), file));
    rocksdb::IngestExternalFileOptions io;
    io.move_files = true;
    // A snapshot held across the ingestion makes RocksDB give the file the next sequence number and put it
    // in L0 (snapshot_consistency). Without one, RocksDB 7.8 with universal compaction may put a file that
    // overlaps no key in a lower level under that level's largest sequence number, older than data of the
    // same keys elsewhere, and a later compaction then keeps the older value (RocksDB PR 12257, fixed in
    // 8.11). Seen here as restorations that resurrected older values and deleted keys.
    const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
    absl::Status s = FromRocksDb(db_->IngestExternalFile(default_cf_, {file}, io), path_);
    db_->ReleaseSnapshot(snapshot);
    std::filesystem::remove(file, ec);
    if (s.ok() && interval_ > 0) segments_.insert(segment);
    return s;
  }

 private:
  // Kept beside the database, not in it: RocksDB deletes unknown .sst files in its directory.
  std::string IngestDir() const { return path_ + ".ingest"; }

  // The segments that hold keys: one seek per segment, from each segment's range to the next.
  absl::Status FindSegments() {
    rocksdb::ReadOptions ro;
    const rocksdb::Slice end = ToSlice(kSegmentsEnd);
    ro.iterate_upper_bound = &end;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, default_cf_));
    std::string after;
    for (it->SeekToFirst(); it->Valid();) {
      if (it->key().size() < kSegmentPrefixSize) {
        return absl::DataLossError(absl::StrCat("rocksdb ", path_, ": a key of ", it->key().size(),
                                                " bytes among the segments, shorter than their prefix"));
      }
      const int64_t id = LoadBigEndian64(it->key().data());
      if (id < 0) return absl::DataLossError(absl::StrCat("rocksdb ", path_, ": a key of negative segment ", id));
      segments_.insert(id);
      EncodeSegmentEnd(id, &after);
      it->Seek(after);
    }
    return FromRocksDb(it->status(), path_);
  }

  std::string MetadataKey(absl::string_view name) const {
    std::string key(1, kMetadataPrefix);
    key.append(name.data(), name.size());
    return key;
  }

  // A store without the layout marker is new or of an earlier layout, whose default column family held only
  // metadata, under bare names: those move under the prefix in the batch that writes the marker. No flush
  // here: the batch becomes durable with the next flush, which also carries everything written after it
  // (the WAL is off), so a crash leaves either none of it or all of it, and the old families are copied
  // after it.
  absl::Status MarkLayout() {
    std::string layout;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, ToSlice(kLayoutKey), &layout);
    if (s.ok()) {
      if (layout == kLayout) return absl::OkStatus();
      return absl::FailedPreconditionError(
          absl::StrCat("rocksdb ", path_, ": store layout '", layout, "', expected '", kLayout, "'"));
    }
    if (!s.IsNotFound()) return FromRocksDb(s, path_);
    batch_.Clear();
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), default_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      EDDY_RETURN_IF_ERROR(FromRocksDb(batch_.Put(default_cf_, MetadataKey(View(it->key())), it->value()), path_));
      EDDY_RETURN_IF_ERROR(FromRocksDb(batch_.Delete(default_cf_, it->key()), path_));
    }
    EDDY_RETURN_IF_ERROR(FromRocksDb(it->status(), path_));
    it.reset();
    EDDY_RETURN_IF_ERROR(FromRocksDb(batch_.Put(default_cf_, ToSlice(kLayoutKey), ToSlice(kLayout)), path_));
    return FromRocksDb(db_->Write(write_options_, &batch_), path_);
  }

  // Copies a column family of an earlier layout into the default one, then drops it: a segment's own family
  // (id >= 0; its keys get the segment's prefix) or the "segments" family (id -1; keys already prefixed).
  // After a crash halfway the family is still there and is copied again.
  absl::Status ConvertOldFamily(int64_t id, rocksdb::ColumnFamilyHandle* cf) {
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
      const SegmentPrefix prefix(std::max<int64_t>(id, 0));
      const size_t prefix_size = id >= 0 ? kSegmentPrefixSize : 0;
      batch_.Clear();
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const rocksdb::Slice parts[2] = {rocksdb::Slice(prefix.bytes, prefix_size), it->key()};
        const rocksdb::Slice value = it->value();
        EDDY_RETURN_IF_ERROR(FromRocksDb(
            batch_.Put(default_cf_, rocksdb::SliceParts(parts, 2), rocksdb::SliceParts(&value, 1)), path_));
        if (batch_.GetDataSize() >= (4 << 20)) {
          EDDY_RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch_), path_));
          batch_.Clear();
        }
      }
      EDDY_RETURN_IF_ERROR(FromRocksDb(it->status(), path_));
      EDDY_RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch_), path_));
    }
    // Flushed before the family goes: the copy is not in a WAL.
    EDDY_RETURN_IF_ERROR(Flush());
    return FromRocksDb(db_->DropColumnFamily(cf), path_);  // the caller destroys the handle
  }

  const std::string path_;
  const int64_t interval_;  // 0: unsegmented
  rocksdb::Options options_;
  rocksdb::WriteOptions write_options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  absl::btree_set<int64_t> segments_;                    // the segments that hold (or were given) keys
  rocksdb::WriteBatch batch_;                            // reused by Write
  std::string key_;                                      // reused: a prefixed key (the cache's key format)
  uint64_t ingest_files_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> OpenRocksDbBackend(const std::string& path, int64_t segment_interval,
                                                            BlockCache* block_cache) {
  auto backend = std::make_unique<RocksDbBackend>(path, segment_interval);
  EDDY_RETURN_IF_ERROR(backend->Open(block_cache));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace eddy::state_internal
