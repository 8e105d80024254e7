// LatencyHistogram: the latency histogram of `eddy bench` (embedded and remote modes).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

namespace eddy::cli {

// LatencyHistogram: microsecond latencies in log-linear buckets (exact below 64 us, then 32 buckets per
// power of two: about 3% resolution). Record() is lock-free and may be called from any thread.
class LatencyHistogram {
 public:
  void Record(int64_t us) {
    if (us < 0) us = 0;
    buckets_[Index(us)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(us, std::memory_order_relaxed);
    int64_t max = max_.load(std::memory_order_relaxed);
    while (us > max && !max_.compare_exchange_weak(max, us, std::memory_order_relaxed)) {
    }
  }
  // Percentile returns the value (us) below which a fraction `q` of the recorded latencies fall.
  double Percentile(double q) const {
    int64_t total = Count();
    if (total == 0) return 0;
    int64_t want = static_cast<int64_t>(q * static_cast<double>(total) + 0.5);
    int64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= std::max<int64_t>(want, 1)) return Midpoint(i);
    }
    return static_cast<double>(max_.load());
  }
  int64_t Count() const {
    int64_t n = 0;
    for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
    return n;
  }
  double Mean() const {
    int64_t n = Count();
    return n == 0 ? 0 : static_cast<double>(sum_.load()) / static_cast<double>(n);
  }
  int64_t Max() const { return max_.load(); }
  // Reset empties the histogram; not safe against a concurrent Record().
  void Reset() {
    for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
    sum_.store(0, std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
  }

 private:
  static constexpr size_t kBuckets = 64 + 58 * 32;
  static size_t Index(int64_t us) {
    if (us < 64) return static_cast<size_t>(us);
    int e = 63 - __builtin_clzll(static_cast<uint64_t>(us));  // >= 6
    size_t sub = static_cast<size_t>((us >> (e - 5)) & 31);
    return std::min(kBuckets - 1, 64 + static_cast<size_t>(e - 6) * 32 + sub);
  }
  static double Midpoint(size_t i) {
    if (i < 64) return static_cast<double>(i);
    int e = 6 + static_cast<int>((i - 64) / 32);
    double low = static_cast<double>((32 + (i - 64) % 32) << (e - 5));
    return low + static_cast<double>(int64_t{1} << (e - 5)) / 2;
  }
  std::array<std::atomic<int64_t>, kBuckets> buckets_{};
  std::atomic<int64_t> sum_{0};
  std::atomic<int64_t> max_{0};
};

}  // namespace eddy::cli
