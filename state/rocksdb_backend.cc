// The RocksDB Backend. Options follow Kafka Streams' RocksDBStore where they matter: no compression, 16 MiB
// write buffers (3 of them), 4 KiB blocks with a bloom filter, universal compaction, a block cache shared
// per stream thread, writes with the WAL disabled (the changelog is the durability; Flush flushes the
// memtables so that a checkpoint written after it is true after a crash). Segmented stores keep a column
// family per segment and flush them atomically (atomic_flush), since their writes are not in a WAL.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "eddy/state/block_cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
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
  RocksDbIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, absl::string_view lower,
                  std::optional<absl::string_view> upper, const std::string& path)
      : path_(path) {
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
  absl::string_view key() const override { return View(it_->key()); }
  absl::string_view value() const override { return View(it_->value()); }
  absl::Status status() const override { return FromRocksDb(it_->status(), path_); }

 private:
  const std::string& path_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;  // last: destroyed before the bound it reads
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
    options_.atomic_flush = interval_ > 0;

    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options_, path_, &names).ok()) names.clear();  // a new database
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, options_);
    std::vector<int64_t> ids;
    for (const std::string& name : names) {
      if (name == rocksdb::kDefaultColumnFamilyName) continue;
      int64_t start = 0;
      if (interval_ == 0 || !absl::StartsWith(name, kSegmentColumnFamilyPrefix) ||
          !absl::SimpleAtoi(absl::string_view(name).substr(sizeof(kSegmentColumnFamilyPrefix) - 1), &start) ||
          start < 0 || start % interval_ != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "rocksdb ", path_, ": column family '", name,
            "' does not belong to this store (created as another store type or segment interval?)"));
      }
      descriptors.emplace_back(name, options_);
      ids.push_back(start / interval_);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    EDDY_RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::Open(options_, path_, descriptors, &handles, &db), path_));
    db_.reset(db);
    default_cf_ = handles[0];
    for (size_t i = 0; i < ids.size(); ++i) segments_[ids[i]] = handles[i + 1];
    return absl::OkStatus();
  }

  bool persistent() const override { return true; }

  absl::StatusOr<bool> Get(int64_t segment, absl::string_view key, std::string* value) override {
    rocksdb::ColumnFamilyHandle* cf = Find(segment);
    if (cf == nullptr) return false;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, ToSlice(key), value);
    if (s.IsNotFound()) return false;
    EDDY_RETURN_IF_ERROR(FromRocksDb(s, path_));
    return true;
  }

  absl::Status Write(absl::Span<const BackendWrite> writes) override {
    batch_.Clear();
    for (const BackendWrite& w : writes) {
      EDDY_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf, FindOrCreate(w.segment));
      rocksdb::Status s = w.value.has_value() ? batch_.Put(cf, ToSlice(w.key), ToSlice(*w.value))
                                              : batch_.Delete(cf, ToSlice(w.key));
      EDDY_RETURN_IF_ERROR(FromRocksDb(s, path_));
    }
    return FromRocksDb(db_->Write(write_options_, &batch_), path_);
  }

  std::unique_ptr<KeyValueIterator> NewIterator(int64_t segment, absl::string_view lower,
                                                std::optional<absl::string_view> upper) override {
    rocksdb::ColumnFamilyHandle* cf = Find(segment);
    if (cf == nullptr) return std::make_unique<EmptyIterator>();
    return std::make_unique<RocksDbIterator>(db_.get(), cf, lower, upper, path_);
  }

  std::vector<int64_t> Segments() const override {
    if (interval_ == 0) return {0};
    std::vector<int64_t> ids;
    for (const auto& [id, cf] : segments_) ids.push_back(id);
    return ids;
  }

  absl::Status DropSegmentsBefore(int64_t segment) override {
    while (!segments_.empty() && segments_.begin()->first < segment) {
      rocksdb::ColumnFamilyHandle* cf = segments_.begin()->second;
      EDDY_RETURN_IF_ERROR(FromRocksDb(db_->DropColumnFamily(cf), path_));
      // Open iterators may still read the dropped family: its handle is destroyed at Close.
      dropped_.push_back(cf);
      segments_.erase(segments_.begin());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view name) override {
    if (interval_ == 0) return absl::UnimplementedError("key-value stores keep no metadata");
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, ToSlice(name), &value);
    if (s.IsNotFound()) return std::nullopt;
    EDDY_RETURN_IF_ERROR(FromRocksDb(s, path_));
    return value;
  }

  absl::Status PutMetadata(absl::string_view name, absl::string_view value) override {
    if (interval_ == 0) return absl::UnimplementedError("key-value stores keep no metadata");
    return FromRocksDb(db_->Put(write_options_, default_cf_, ToSlice(name), ToSlice(value)), path_);
  }

  absl::StatusOr<uint64_t> ApproximateNumEntries() override {
    uint64_t total = 0;
    for (rocksdb::ColumnFamilyHandle* cf : Live()) {
      uint64_t n = 0;
      if (db_->GetIntProperty(cf, "rocksdb.estimate-num-keys", &n)) total += n;
    }
    return total;
  }

  absl::StatusOr<bool> Empty() override {
    for (rocksdb::ColumnFamilyHandle* cf : Live()) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
      it->SeekToFirst();
      EDDY_RETURN_IF_ERROR(FromRocksDb(it->status(), path_));
      if (it->Valid()) return false;
    }
    return true;
  }

  absl::Status Flush() override {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    std::vector<rocksdb::ColumnFamilyHandle*> cfs = Live();
    if (interval_ > 0) cfs.push_back(default_cf_);  // the metadata
    return FromRocksDb(db_->Flush(fo, cfs), path_);
  }

  absl::Status Close() override {
    if (db_ == nullptr) return absl::OkStatus();
    for (rocksdb::ColumnFamilyHandle* cf : dropped_) (void)db_->DestroyColumnFamilyHandle(cf);
    for (auto& [id, cf] : segments_) (void)db_->DestroyColumnFamilyHandle(cf);
    (void)db_->DestroyColumnFamilyHandle(default_cf_);
    dropped_.clear();
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
    EDDY_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf, FindOrCreate(segment));
    std::error_code ec;
    std::filesystem::create_directories(IngestDir(), ec);
    if (ec) return absl::InternalError(absl::StrCat("creating ", IngestDir(), ": ", ec.message()));
    std::string file = absl::StrCat(IngestDir(), "/", ingest_files_++, ".sst");
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options_, cf);
    EDDY_RETURN_IF_ERROR(FromRocksDb(writer.Open(file), file));
    for (const BackendWrite& w : sorted) {
      rocksdb::Status s = w.value.has_value() ? writer.Put(ToSlice(w.key), ToSlice(*w.value))
                                              : writer.Delete(ToSlice(w.key));
      EDDY_RETURN_IF_ERROR(FromRocksDb(s, file));
    }
    EDDY_RETURN_IF_ERROR(FromRocksDb(writer.Finish(), file));
    rocksdb::IngestExternalFileOptions io;
    io.move_files = true;
    absl::Status s = FromRocksDb(db_->IngestExternalFile(cf, {file}, io), path_);
    std::filesystem::remove(file, ec);
    return s;
  }

 private:
  // Kept beside the database, not in it: RocksDB deletes unknown .sst files in its directory.
  std::string IngestDir() const { return path_ + ".ingest"; }

  rocksdb::ColumnFamilyHandle* Find(int64_t segment) const {
    if (interval_ == 0) return default_cf_;
    auto it = segments_.find(segment);
    return it == segments_.end() ? nullptr : it->second;
  }

  absl::StatusOr<rocksdb::ColumnFamilyHandle*> FindOrCreate(int64_t segment) {
    if (rocksdb::ColumnFamilyHandle* cf = Find(segment)) return cf;
    if (segment < 0) return absl::InvalidArgumentError("negative segment");
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    std::string name = absl::StrCat(kSegmentColumnFamilyPrefix, segment * interval_);
    EDDY_RETURN_IF_ERROR(FromRocksDb(db_->CreateColumnFamily(options_, name, &cf), path_));
    segments_[segment] = cf;
    return cf;
  }

  std::vector<rocksdb::ColumnFamilyHandle*> Live() const {
    if (interval_ == 0) return {default_cf_};
    std::vector<rocksdb::ColumnFamilyHandle*> cfs;
    for (const auto& [id, cf] : segments_) cfs.push_back(cf);
    return cfs;
  }

  const std::string path_;
  const int64_t interval_;  // 0: unsegmented
  rocksdb::Options options_;
  rocksdb::WriteOptions write_options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  std::map<int64_t, rocksdb::ColumnFamilyHandle*> segments_;
  std::vector<rocksdb::ColumnFamilyHandle*> dropped_;
  rocksdb::WriteBatch batch_;  // reused by Write
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
