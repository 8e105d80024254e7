#include "examples/sales_windowed/sales_topology.h"

#include <cmath>
#include <cstring>
#include <string_view>

#include "absl/base/casts.h"
#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eddy/core/status.h"
#include "eddy/dsl/dsl.h"

namespace eddy::sales {
namespace {

// The aggregate kept in the window store: 16 bytes, count then millionths (big-endian).
struct Totals {
  int64_t count = 0;
  int64_t micros = 0;
};
struct TotalsSerde {
  using Type = Totals;
  void Serialize(const Totals& t, std::string* out) const {
    out->resize(16);
    absl::big_endian::Store64(out->data(), static_cast<uint64_t>(t.count));
    absl::big_endian::Store64(out->data() + 8, static_cast<uint64_t>(t.micros));
  }
  absl::Status Deserialize(absl::string_view in, Totals* t) const {
    if (in.size() != 16) return absl::DataLossError("sales totals: expected 16 bytes");
    t->count = static_cast<int64_t>(absl::big_endian::Load64(in.data()));
    t->micros = static_cast<int64_t>(absl::big_endian::Load64(in.data() + 8));
    return absl::OkStatus();
  }
};

int64_t SaleTime(const std::string&, const Sale& sale, const RecordView&, int64_t) { return sale.timestamp_ms; }

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The form the topics carry, "YYYY-MM-DDTHH:MM:SS[.fff]Z", without absl::ParseTime, which costs about a
// quarter of the stream thread's time per sale (the profile in docs/PERFORMANCE.md). False: another form.
bool ParseUtcFast(absl::string_view t, int64_t* ms) {
  if (t.size() != 20 && t.size() != 24) return false;
  auto digits = [&](size_t pos, size_t n, int64_t* out) {
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h, mi, sec, milli = 0;
  if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t.back() != 'Z') return false;
  if (!digits(0, 4, &y) || !digits(5, 2, &mo) || !digits(8, 2, &d) || !digits(11, 2, &h) || !digits(14, 2, &mi) ||
      !digits(17, 2, &sec)) {
    return false;
  }
  if (t.size() == 24 && (t[19] != '.' || !digits(20, 3, &milli))) return false;
  // Leave anything unusual (leap seconds, day 31 of a 30-day month, ...) to absl::ParseTime.
  if (mo < 1 || mo > 12 || d < 1 || d > 28 || h > 23 || mi > 59 || sec > 59) return false;
  *ms = ((DaysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + sec * 1000 + milli;
  return true;
}

}  // namespace

absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text) {
  int64_t ms = 0;
  if (ParseUtcFast(text, &ms)) return ms;
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("bad timestamp \"", text, "\": ", error));
  }
  return absl::ToUnixMillis(t);
}

std::string FormatTimestamp(int64_t ms) {
  if (ms < 0 || ms >= 253402300800000) {  // outside years 1970-9999: absl::FormatTime's wider range
    return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
  }
  // Hinnant's civil_from_days: absl::FormatTime costs about as much as the rest of writing a sale.
  const int64_t z = ms / 86400000 + 719468;
  const int64_t era = z / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2);
  const int64_t in_day = ms % 86400000;
  char buf[25];
  auto put = [&buf](size_t pos, size_t n, int64_t v) {
    for (size_t i = pos + n; i > pos; v /= 10) buf[--i] = static_cast<char>('0' + v % 10);
  };
  std::memcpy(buf, "0000-00-00T00:00:00.000Z", 24);
  put(0, 4, year);
  put(5, 2, month);
  put(8, 2, day);
  put(11, 2, in_day / 3600000);
  put(14, 2, in_day / 60000 % 60);
  put(17, 2, in_day / 1000 % 60);
  put(20, 3, in_day % 1000);
  return std::string(buf, 24);
}

int64_t ToMicros(double amount) { return std::llround(amount * 1e6); }

double MicrosToRoundedUnits(int64_t micros) {
  const int64_t cents = micros >= 0 ? (micros + 5000) / 10000 : -((-micros + 5000) / 10000);
  return static_cast<double>(cents) / 100.0;
}

void ToJson(json::Writer& w, const Sale& s) {
  w.BeginObject();
  w.Key("category");
  w.String(s.category);
  w.Key("amount");
  w.Double(s.amount);
  w.Key("timestamp");
  w.String(FormatTimestamp(s.timestamp_ms));
  w.EndObject();
}

absl::Status FromJson(simdjson::ondemand::value v, Sale* s) {
  std::string_view category, timestamp;
  EDDY_RETURN_IF_ERROR(json::Get(v["category"].get_string(), &category, "category"));
  s->category = std::string(category);
  EDDY_RETURN_IF_ERROR(json::Get(v["amount"].get_double(), &s->amount, "amount"));
  s->timestamp_ms = -1;
  if (v["timestamp"].get_string().get(timestamp) == simdjson::SUCCESS) {
    absl::StatusOr<int64_t> t = ParseTimestamp(absl::string_view(timestamp.data(), timestamp.size()));
    if (t.ok()) s->timestamp_ms = *t;
  }
  return absl::OkStatus();
}

void SaleBinarySerde::Serialize(const Sale& s, std::string* out) const {
  out->resize(kFixedSize + s.category.size());
  char* p = out->data();
  absl::big_endian::Store64(p, static_cast<uint64_t>(s.timestamp_ms));
  absl::big_endian::Store64(p + 8, absl::bit_cast<uint64_t>(s.amount));
  std::memcpy(p + kFixedSize, s.category.data(), s.category.size());
}

absl::Status SaleBinarySerde::Deserialize(absl::string_view in, Sale* s) const {
  if (in.size() < kFixedSize) return absl::DataLossError("repartitioned sale: fewer than 16 bytes");
  s->timestamp_ms = static_cast<int64_t>(absl::big_endian::Load64(in.data()));
  s->amount = absl::bit_cast<double>(absl::big_endian::Load64(in.data() + 8));
  s->category.assign(in.data() + kFixedSize, in.size() - kFixedSize);
  return absl::OkStatus();
}

void ToJson(json::Writer& w, const SalesPerWindow& s) {
  w.BeginObject();
  w.Key("category");
  w.String(s.category);
  w.Key("window_start");
  w.String(FormatTimestamp(s.window_start_ms));
  w.Key("window_end");
  w.String(FormatTimestamp(s.window_end_ms));
  w.Key("count");
  w.Int(s.count);
  w.Key("revenue");
  w.Double(s.revenue);
  w.EndObject();
}

absl::Status FromJson(simdjson::ondemand::value v, SalesPerWindow* s) {
  std::string_view category, start, end;
  EDDY_RETURN_IF_ERROR(json::Get(v["category"].get_string(), &category, "category"));
  s->category = std::string(category);
  EDDY_RETURN_IF_ERROR(json::Get(v["window_start"].get_string(), &start, "window_start"));
  EDDY_ASSIGN_OR_RETURN(s->window_start_ms, ParseTimestamp(absl::string_view(start.data(), start.size())));
  EDDY_RETURN_IF_ERROR(json::Get(v["window_end"].get_string(), &end, "window_end"));
  EDDY_ASSIGN_OR_RETURN(s->window_end_ms, ParseTimestamp(absl::string_view(end.data(), end.size())));
  EDDY_RETURN_IF_ERROR(json::Get(v["count"].get_int64(), &s->count, "count"));
  return json::Get(v["revenue"].get_double(), &s->revenue, "revenue");
}

absl::StatusOr<Topology> SalesTopology(const SalesOptions& options) {
  StreamsBuilder builder;
  builder
      .Stream(options.input_topic,
              Consumed(StringSerde(), JsonSerde<Sale>()).WithName("sales-source").WithTimestampExtractor(SaleTime))
      .GroupBy([](const std::string&, const Sale& sale) { return sale.category; },
               Grouped::As("sales-by-category").WithSerdes(StringSerde(), SaleBinarySerde()))
      .WindowedBy(TimeWindows::OfSizeAndGrace(absl::Milliseconds(options.window_ms),
                                              absl::Milliseconds(options.grace_ms)))
      .Aggregate([] { return Totals{}; },
                 [](const std::string&, const Sale& sale, const Totals& t) {
                   return Totals{t.count + 1, t.micros + ToMicros(sale.amount)};
                 },
                 Materialized::As("sales-per-category").WithSerdes(StringSerde(), TotalsSerde()),
                 Named::As("sales-per-category-aggregate"))
      .Suppress(Suppressed::UntilWindowCloses(BufferConfig::Unbounded()).WithName("sales-final"))
      .ToStream()
      .Map([](const Windowed<std::string>& key, const Totals& t) {
        return KeyValue<std::string, SalesPerWindow>{
            key.key, SalesPerWindow{key.key, key.window.start, key.window.end, t.count, MicrosToRoundedUnits(t.micros)}};
      })
      .To(options.output_topic, Produced(StringSerde(), JsonSerde<SalesPerWindow>()));
  return builder.Build();
}

}  // namespace eddy::sales
