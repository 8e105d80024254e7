#include "examples/sales_windowed/sales_generator.h"

#include "absl/strings/str_cat.h"

namespace eddy::sales {
namespace {

constexpr const char* kCategories[] = {"books", "games", "music", "toys", "garden", "electronics"};

}  // namespace

void SalesGenerator::Next(GeneratedSale* out) {
  const int64_t i = next_++;
  const int64_t place = options_.start_ms + (options_.span_ms * i) / options_.count;
  out->late = std::uniform_real_distribution<double>(0, 1)(rng_) < options_.late_fraction;
  int64_t behind = 0;
  if (out->late) {
    behind = options_.window_ms + options_.grace_ms +
             std::uniform_int_distribution<int64_t>(0, options_.window_ms - 1)(rng_);
  } else if (options_.jitter_ms > 0) {
    behind = std::uniform_int_distribution<int64_t>(0, options_.jitter_ms)(rng_);
  }
  out->sale.timestamp_ms = std::max<int64_t>(0, place - behind);
  out->sale.category = kCategories[std::uniform_int_distribution<size_t>(0, std::size(kCategories) - 1)(rng_)];
  out->sale.amount = static_cast<double>(std::uniform_int_distribution<int64_t>(100, 20000)(rng_)) / 100.0;
  if (i % 10 == 9) {
    out->key.reset();
  } else {
    out->key = absl::StrCat("sale-", i);
  }
}

}  // namespace eddy::sales
