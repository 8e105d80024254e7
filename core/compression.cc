// Codec implementations over zlib, snappy, liblz4 (frame API) and libzstd. Codec contexts that are costly
// to create (zlib streams, zstd contexts, the lz4 decompression context) are cached per thread and reset
// before each use, so a call never shares state with another thread.
#include "eddy/core/compression.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy {
namespace {

// ---- output growth, bounded -------------------------------------------------------------------------------

// A decompression target: *out grows geometrically up to max_size + 1 bytes; producing that last byte means
// the output is over the limit.
class BoundedOutput {
 public:
  BoundedOutput(std::string* out, size_t max_size, size_t hint) : out_(out), max_size_(max_size) {
    const size_t cap = max_size_ == SIZE_MAX ? max_size_ : max_size_ + 1;
    size_t start = std::max<size_t>({hint, out_->capacity(), 256});
    out_->resize(std::min(start, cap));
  }
  char* next() { return out_->data() + produced_; }
  size_t avail() const { return out_->size() - produced_; }
  void Produced(size_t n) { produced_ += n; }
  size_t produced() const { return produced_; }
  bool over_limit() const { return produced_ > max_size_; }
  // Makes room for more output; kResourceExhausted when the buffer is already at its cap.
  absl::Status Grow(absl::string_view codec) {
    if (avail() > 0) return absl::OkStatus();
    if (out_->size() > max_size_) return TooBig(codec);
    const size_t cap = max_size_ == SIZE_MAX ? max_size_ : max_size_ + 1;
    out_->resize(std::min(cap, std::max<size_t>(out_->size() * 2, 4096)));
    return absl::OkStatus();
  }
  absl::Status Finish(absl::string_view codec) {
    if (over_limit()) return TooBig(codec);
    out_->resize(produced_);
    return absl::OkStatus();
  }
  absl::Status TooBig(absl::string_view codec) const {
    return absl::ResourceExhaustedError(
        absl::StrCat(codec, ": decompressed size exceeds the limit of ", max_size_, " bytes"));
  }

 private:
  std::string* out_;
  size_t max_size_;
  size_t produced_ = 0;
};

absl::Status Corrupt(absl::string_view codec, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt ", codec, " data: ", what));
}

// ---- gzip ------------------------------------------------------------------------------------------------

struct ZlibStreams {
  z_stream deflate{};
  int deflate_level = -2;  // none yet
  z_stream inflate{};
  bool inflate_ready = false;
  ~ZlibStreams() {
    if (deflate_level != -2) deflateEnd(&deflate);
    if (inflate_ready) inflateEnd(&inflate);
  }
};
thread_local ZlibStreams tls_zlib;

absl::Status GzipCompress(absl::string_view in, std::string* out, int level) {
  if (level == -1) level = 6;
  ZlibStreams& z = tls_zlib;
  if (z.deflate_level != level) {
    if (z.deflate_level != -2) deflateEnd(&z.deflate);
    z.deflate = z_stream{};
    z.deflate_level = -2;
    // windowBits 15 + 16: gzip framing, as java.util.zip.GZIPOutputStream.
    const int rc = deflateInit2(&z.deflate, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc == Z_STREAM_ERROR) return absl::InvalidArgumentError(absl::StrCat("gzip: invalid level ", level));
    if (rc != Z_OK) return absl::InternalError(absl::StrCat("gzip: deflateInit2 failed: ", rc));
    z.deflate_level = level;
  } else {
    deflateReset(&z.deflate);
  }
  z_stream& zs = z.deflate;
  const size_t old = out->size();
  out->resize(old + deflateBound(&zs, in.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data() + old);
  zs.avail_out = static_cast<uInt>(out->size() - old);
  const int rc = deflate(&zs, Z_FINISH);
  if (rc != Z_STREAM_END) {
    out->resize(old);
    return absl::InternalError(absl::StrCat("gzip: deflate failed: ", rc));
  }
  out->resize(out->size() - zs.avail_out);
  return absl::OkStatus();
}

absl::Status GzipDecompress(absl::string_view in, std::string* out, size_t max_size) {
  ZlibStreams& z = tls_zlib;
  if (!z.inflate_ready) {
    z.inflate = z_stream{};
    // 15 + 32: gzip or zlib header, detected.
    if (inflateInit2(&z.inflate, 15 + 32) != Z_OK) return absl::InternalError("gzip: inflateInit2 failed");
    z.inflate_ready = true;
  } else {
    inflateReset(&z.inflate);
  }
  // The gzip trailer holds the input size mod 2^32: a good first guess, bounded by deflate's best ratio
  // (about 1032:1) so that a lying trailer cannot make us allocate much.
  size_t hint = in.size() * 4;
  if (in.size() >= 18) {
    const size_t isize = absl::little_endian::Load32(in.data() + in.size() - 4);
    hint = std::min(isize, in.size() * 1032);
  }
  BoundedOutput o(out, max_size, hint);
  z_stream& zs = z.inflate;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  while (true) {
    EDDY_RETURN_IF_ERROR(o.Grow("gzip"));
    const size_t avail = std::min<size_t>(o.avail(), UINT32_MAX);
    zs.next_out = reinterpret_cast<Bytef*>(o.next());
    zs.avail_out = static_cast<uInt>(avail);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    o.Produced(avail - zs.avail_out);
    if (o.over_limit()) return o.TooBig("gzip");
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // concatenated gzip members, as GZIPInputStream reads them
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return Corrupt("gzip", "truncated stream");
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Corrupt("gzip", zs.msg != nullptr ? zs.msg : "inflate failed");
  }
  return o.Finish("gzip");
}

// ---- snappy ----------------------------------------------------------------------------------------------

// xerial snappy-java's stream header: magic, version 1, minimum compatible version 1.
constexpr char kXerialMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
constexpr size_t kXerialHeaderSize = 16;
constexpr size_t kXerialBlockSize = 32 * 1024;  // SnappyOutputStream's default block size

absl::Status SnappyCompress(absl::string_view in, std::string* out) {
  size_t pos = out->size();
  const size_t blocks = std::max<size_t>(1, (in.size() + kXerialBlockSize - 1) / kXerialBlockSize);
  out->resize(pos + kXerialHeaderSize + blocks * (4 + snappy::MaxCompressedLength(kXerialBlockSize)));
  char* p = out->data() + pos;
  std::memcpy(p, kXerialMagic, sizeof(kXerialMagic));
  absl::big_endian::Store32(p + 8, 1);
  absl::big_endian::Store32(p + 12, 1);
  pos += kXerialHeaderSize;
  for (size_t off = 0; off < in.size(); off += kXerialBlockSize) {
    const size_t n = std::min(kXerialBlockSize, in.size() - off);
    size_t written = 0;
    snappy::RawCompress(in.data() + off, n, out->data() + pos + 4, &written);
    absl::big_endian::Store32(out->data() + pos, static_cast<uint32_t>(written));
    pos += 4 + written;
  }
  out->resize(pos);
  return absl::OkStatus();
}

// Appends the raw snappy block `in` to *out, keeping *out within max_size.
absl::Status SnappyAppendRaw(absl::string_view in, std::string* out, size_t max_size) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) return Corrupt("snappy", "bad length preamble");
  // Snappy expands at most about 21x (a 3-byte copy element yields 64 bytes): a larger claim is corrupt, and
  // rejecting it here keeps a 10-byte input from making us allocate and zero 256 MiB.
  if (n / 32 > in.size()) {
    return Corrupt("snappy", absl::StrCat("length preamble ", n, " is more than ", in.size(), " bytes can encode"));
  }
  if (n > max_size || out->size() + n > max_size) {
    return absl::ResourceExhaustedError(
        absl::StrCat("snappy: decompressed size exceeds the limit of ", max_size, " bytes"));
  }
  const size_t old = out->size();
  out->resize(old + n);
  if (!snappy::RawUncompress(in.data(), in.size(), out->data() + old)) {
    out->resize(old);
    return Corrupt("snappy", "invalid block");
  }
  return absl::OkStatus();
}

absl::Status SnappyDecompress(absl::string_view in, std::string* out, size_t max_size) {
  out->clear();
  if (in.size() < kXerialHeaderSize || std::memcmp(in.data(), kXerialMagic, sizeof(kXerialMagic)) != 0) {
    return SnappyAppendRaw(in, out, max_size);  // librdkafka: one raw block
  }
  size_t pos = kXerialHeaderSize;
  while (pos < in.size()) {
    if (in.size() - pos < 4) return Corrupt("snappy", absl::StrCat("truncated xerial chunk length at ", pos));
    const uint32_t len = absl::big_endian::Load32(in.data() + pos);
    pos += 4;
    if (len > in.size() - pos) {
      return Corrupt("snappy", absl::StrCat("xerial chunk of ", len, " bytes at ", pos - 4, " overruns the ",
                                            in.size(), "-byte input"));
    }
    EDDY_RETURN_IF_ERROR(SnappyAppendRaw(in.substr(pos, len), out, max_size));
    pos += len;
  }
  return absl::OkStatus();
}

// ---- lz4 -------------------------------------------------------------------------------------------------

absl::Status Lz4Compress(absl::string_view in, std::string* out, int level) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;  // as Kafka's KafkaLZ4BlockOutputStream
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level < 0 ? 0 : level;
  const size_t old = out->size();
  out->resize(old + LZ4F_compressFrameBound(in.size(), &prefs));
  const size_t n = LZ4F_compressFrame(out->data() + old, out->size() - old, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out->resize(old);
    return absl::InternalError(absl::StrCat("lz4: ", LZ4F_getErrorName(n)));
  }
  out->resize(old + n);
  return absl::OkStatus();
}

struct Lz4Dctx {
  LZ4F_dctx* dctx = nullptr;
  ~Lz4Dctx() {
    if (dctx != nullptr) LZ4F_freeDecompressionContext(dctx);
  }
};
thread_local Lz4Dctx tls_lz4;

absl::Status Lz4DecompressWith(LZ4F_dctx* dctx, absl::string_view in, std::string* out, size_t max_size) {
  BoundedOutput o(out, max_size, in.size() * 4);
  const char* src = in.data();
  size_t src_left = in.size();
  while (true) {
    EDDY_RETURN_IF_ERROR(o.Grow("lz4"));
    const size_t avail = o.avail();
    size_t dst_size = avail;
    size_t src_size = src_left;
    const size_t hint = LZ4F_decompress(dctx, o.next(), &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) return Corrupt("lz4", LZ4F_getErrorName(hint));
    o.Produced(dst_size);
    if (o.over_limit()) return o.TooBig("lz4");
    src += src_size;
    src_left -= src_size;
    if (src_left > 0) continue;  // after a frame ends (hint 0), more input is another frame
    if (hint == 0) break;        // the last frame is complete
    // All input consumed mid-frame: the context may still hold output (then dst was filled); if not, the
    // frame is cut short.
    if (dst_size < avail) return Corrupt("lz4", "truncated frame");
  }
  return o.Finish("lz4");
}

absl::Status Lz4Decompress(absl::string_view in, std::string* out, size_t max_size) {
  if (tls_lz4.dctx == nullptr &&
      LZ4F_isError(LZ4F_createDecompressionContext(&tls_lz4.dctx, LZ4F_VERSION))) {
    tls_lz4.dctx = nullptr;
    return absl::InternalError("lz4: cannot create a decompression context");
  }
  absl::Status st = Lz4DecompressWith(tls_lz4.dctx, in, out, max_size);
  if (!st.ok()) {
    // A context left mid-frame is not fully cleaned by LZ4F_resetDecompressionContext in liblz4 1.9.4 (the
    // failed frame's content size survives, and the next frame fails with frameSize_wrong): drop it.
    LZ4F_freeDecompressionContext(tls_lz4.dctx);
    tls_lz4.dctx = nullptr;
  }
  return st;
}

// ---- zstd ------------------------------------------------------------------------------------------------

struct ZstdContexts {
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  ~ZstdContexts() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
};
thread_local ZstdContexts tls_zstd;

absl::Status ZstdCompress(absl::string_view in, std::string* out, int level) {
  if (level == -1) level = 3;  // Kafka's compression.zstd.level default
  if (tls_zstd.cctx == nullptr) tls_zstd.cctx = ZSTD_createCCtx();
  if (tls_zstd.cctx == nullptr) return absl::InternalError("zstd: cannot create a compression context");
  const size_t old = out->size();
  out->resize(old + ZSTD_compressBound(in.size()));
  const size_t n =
      ZSTD_compressCCtx(tls_zstd.cctx, out->data() + old, out->size() - old, in.data(), in.size(), level);
  if (ZSTD_isError(n)) {
    out->resize(old);
    return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
  }
  out->resize(old + n);
  return absl::OkStatus();
}

absl::Status ZstdDecompress(absl::string_view in, std::string* out, size_t max_size) {
  if (tls_zstd.dctx == nullptr) tls_zstd.dctx = ZSTD_createDCtx();
  if (tls_zstd.dctx == nullptr) return absl::InternalError("zstd: cannot create a decompression context");
  ZSTD_DCtx* dctx = tls_zstd.dctx;
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  const unsigned long long content = ZSTD_getFrameContentSize(in.data(), in.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return Corrupt("zstd", "bad frame header");
  size_t hint = in.size() * 4;
  if (content != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (content > max_size) {
      return absl::ResourceExhaustedError(
          absl::StrCat("zstd: decompressed size ", content, " exceeds the limit of ", max_size, " bytes"));
    }
    // The frame header's size is only a hint for the buffer, capped so that a lying header cannot make us
    // allocate much (the output stays bounded while decoding); +1 lets the loop see the end of the frame
    // without a second round.
    hint = std::min<size_t>(static_cast<size_t>(content) + 1, in.size() * 256 + 65536);
  }
  BoundedOutput o(out, max_size, hint);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t ret = 1;
  while (true) {
    EDDY_RETURN_IF_ERROR(o.Grow("zstd"));
    ZSTD_outBuffer output{o.next(), o.avail(), 0};
    ret = ZSTD_decompressStream(dctx, &output, &input);
    if (ZSTD_isError(ret)) return Corrupt("zstd", ZSTD_getErrorName(ret));
    o.Produced(output.pos);
    if (o.over_limit()) return o.TooBig("zstd");
    if (input.pos == input.size && (ret == 0 || output.pos < output.size)) break;
  }
  if (ret != 0) return Corrupt("zstd", "truncated frame");
  return o.Finish("zstd");
}

}  // namespace

absl::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

absl::StatusOr<Compression> ParseCompression(absl::string_view name) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                        Compression::kZstd}) {
    if (name == CompressionName(c)) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression.type '", name, "' (expected none, gzip, snappy, lz4 or zstd)"));
}

absl::Status CompressAppend(Compression c, absl::string_view in, std::string* out, int level) {
  switch (c) {
    case Compression::kNone: out->append(in.data(), in.size()); return absl::OkStatus();
    case Compression::kGzip: return GzipCompress(in, out, level);
    case Compression::kSnappy: return SnappyCompress(in, out);
    case Compression::kLz4: return Lz4Compress(in, out, level);
    case Compression::kZstd: return ZstdCompress(in, out, level);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown compression codec ", static_cast<int>(c)));
}

absl::Status Compress(Compression c, absl::string_view in, std::string* out, int level) {
  out->clear();
  return CompressAppend(c, in, out, level);
}

absl::Status Decompress(Compression c, absl::string_view in, std::string* out, size_t max_size) {
  switch (c) {
    case Compression::kNone:
      if (in.size() > max_size) {
        return absl::ResourceExhaustedError(
            absl::StrCat("size ", in.size(), " exceeds the limit of ", max_size, " bytes"));
      }
      out->assign(in.data(), in.size());
      return absl::OkStatus();
    case Compression::kGzip: out->clear(); return GzipDecompress(in, out, max_size);
    case Compression::kSnappy: return SnappyDecompress(in, out, max_size);
    case Compression::kLz4: out->clear(); return Lz4Decompress(in, out, max_size);
    case Compression::kZstd: out->clear(); return ZstdDecompress(in, out, max_size);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown compression codec ", static_cast<int>(c)));
}

}  // namespace eddy
