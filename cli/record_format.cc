#include "cli/record_format.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace eddy::cli {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Unescape appends `text` to *out with backslash escapes replaced.
void Unescape(absl::string_view text, std::string* out) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\' || i + 1 == text.size()) {
      out->push_back(c);
      continue;
    }
    char e = text[++i];
    switch (e) {
      case 'n': out->push_back('\n'); break;
      case 't': out->push_back('\t'); break;
      case 'r': out->push_back('\r'); break;
      case 'x': {
        int value = 0;
        int digits = 0;
        while (digits < 2 && i + 1 < text.size() && HexDigit(text[i + 1]) >= 0) {
          value = value * 16 + HexDigit(text[++i]);
          ++digits;
        }
        if (digits == 0) {
          out->push_back('x');
        } else {
          out->push_back(static_cast<char>(value));
        }
        break;
      }
      default: out->push_back(e); break;  // "\\" and any other escaped character stand for themselves
    }
  }
}

}  // namespace

absl::StatusOr<RecordFormatter> RecordFormatter::Parse(absl::string_view format) {
  RecordFormatter f;
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) f.pieces_.push_back({Op::kLiteral, std::move(literal)});
    literal.clear();
  };
  size_t i = 0;
  while (i < format.size()) {
    size_t pct = format.find('%', i);
    Unescape(format.substr(i, pct == absl::string_view::npos ? absl::string_view::npos : pct - i), &literal);
    if (pct == absl::string_view::npos) break;
    if (pct + 1 == format.size()) {
      return absl::InvalidArgumentError("--format ends with a lone '%' (write %% for a percent sign)");
    }
    char d = format[pct + 1];
    Op op;
    switch (d) {
      case 't': op = Op::kTopic; break;
      case 'p': op = Op::kPartition; break;
      case 'o': op = Op::kOffset; break;
      case 'k': op = Op::kKey; break;
      case 's': op = Op::kValue; break;
      case 'T': op = Op::kTimestamp; break;
      case 'h': op = Op::kHeaders; break;
      case 'K': op = Op::kKeyLength; break;
      case 'S': op = Op::kValueLength; break;
      case '%':
        literal.push_back('%');
        i = pct + 2;
        continue;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "--format has an unknown directive '%", std::string(1, d),
            "' (known: %t %p %o %k %s %T %h %K %S %%)"));
    }
    flush_literal();
    f.pieces_.push_back({op, {}});
    i = pct + 2;
  }
  flush_literal();
  return f;
}

void RecordFormatter::Append(absl::string_view topic, const RecordView& r, std::string* out) const {
  for (const Piece& p : pieces_) {
    switch (p.op) {
      case Op::kLiteral: out->append(p.literal); break;
      case Op::kTopic: out->append(topic.data(), topic.size()); break;
      case Op::kPartition: absl::StrAppend(out, r.partition()); break;
      case Op::kOffset: absl::StrAppend(out, r.offset()); break;
      case Op::kKey: out->append(r.key().data(), r.key().size()); break;
      case Op::kValue: out->append(r.value().data(), r.value().size()); break;
      case Op::kTimestamp: absl::StrAppend(out, r.timestamp()); break;
      case Op::kKeyLength: absl::StrAppend(out, r.has_key() ? static_cast<int64_t>(r.key().size()) : -1); break;
      case Op::kValueLength:
        absl::StrAppend(out, r.has_value() ? static_cast<int64_t>(r.value().size()) : -1);
        break;
      case Op::kHeaders: {
        bool first = true;
        r.ForEachHeader([&](const HeaderRef& h) {
          if (!first) out->push_back(',');
          first = false;
          out->append(h.key.data(), h.key.size());
          out->push_back('=');
          if (h.value.has_value()) {
            out->append(h.value->data(), h.value->size());
          } else {
            out->append("NULL");
          }
        });
        break;
      }
    }
  }
}

}  // namespace eddy::cli
