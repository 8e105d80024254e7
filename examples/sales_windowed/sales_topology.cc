#include "examples/sales_windowed/sales_topology.h"

#include <cmath>
#include <string_view>

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

}  // namespace

absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("bad timestamp \"", text, "\": ", error));
  }
  return absl::ToUnixMillis(t);
}

std::string FormatTimestamp(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
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
               Grouped::As("sales-by-category").WithSerdes(StringSerde(), JsonSerde<Sale>()))
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
