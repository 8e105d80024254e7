#include "cli/flags.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace eddy::cli {

FlagSet::FlagSet(std::string synopsis, std::string description)
    : synopsis_(std::move(synopsis)), description_(std::move(description)) {}

void FlagSet::AddString(std::string name, std::string* out, std::string value_name, std::string help) {
  flags_.push_back({.name = std::move(name), .kind = Kind::kString, .out = out,
                    .value_name = std::move(value_name), .help = std::move(help), .default_text = *out});
}

void FlagSet::AddInt(std::string name, int64_t* out, std::string value_name, std::string help, int64_t min,
                     int64_t max) {
  flags_.push_back({.name = std::move(name), .kind = Kind::kInt, .out = out,
                    .value_name = std::move(value_name), .help = std::move(help),
                    .default_text = absl::StrCat(*out), .min = min, .max = max});
}

void FlagSet::AddBool(std::string name, bool* out, std::string help) {
  flags_.push_back({.name = std::move(name), .kind = Kind::kBool, .out = out, .help = std::move(help)});
}

void FlagSet::AddList(std::string name, std::vector<std::string>* out, std::string value_name,
                      std::string help) {
  flags_.push_back({.name = std::move(name), .kind = Kind::kList, .out = out,
                    .value_name = std::move(value_name), .help = std::move(help)});
}

FlagSet::Flag* FlagSet::Find(absl::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool FlagSet::IsSet(absl::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.set;
  }
  return false;
}

std::string FlagSet::CommandName() const {
  // The synopsis' leading words up to the first argument placeholder or flag.
  std::string name;
  for (absl::string_view word : absl::StrSplit(synopsis_, ' ', absl::SkipEmpty())) {
    if (word.empty() || word[0] == '-' || word[0] == '[' || !absl::ascii_islower(word[0])) break;
    absl::StrAppend(&name, name.empty() ? "" : " ", word);
  }
  return name;
}

std::string FlagSet::PositionalName(size_t index) const {
  size_t seen = 0;
  for (absl::string_view word : absl::StrSplit(synopsis_, ' ', absl::SkipEmpty())) {
    if (word.empty() || word[0] == '-' || word[0] == '[') break;
    if (!absl::ascii_isupper(word[0])) continue;  // command words
    if (seen++ == index) return std::string(word);
  }
  return "argument";
}

absl::Status FlagSet::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(message, " (see '", CommandName(), " --help')"));
}

absl::Status FlagSet::SetValue(Flag* flag, absl::string_view value) {
  flag->set = true;
  switch (flag->kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag->out) = std::string(value);
      return absl::OkStatus();
    case Kind::kList:
      static_cast<std::vector<std::string>*>(flag->out)->emplace_back(value);
      return absl::OkStatus();
    case Kind::kInt: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) {
        return Error(absl::StrCat("--", flag->name, " takes an integer, not '", value, "'"));
      }
      if (v < flag->min || v > flag->max) {
        std::string range = flag->max >= INT32_MAX ? absl::StrCat(">= ", flag->min)
                                                   : absl::StrCat("between ", flag->min, " and ", flag->max);
        return Error(absl::StrCat("--", flag->name, " must be ", range, ", not ", v));
      }
      *static_cast<int64_t*>(flag->out) = v;
      return absl::OkStatus();
    }
    case Kind::kBool:
      if (value == "true" || value == "1") {
        *static_cast<bool*>(flag->out) = true;
      } else if (value == "false" || value == "0") {
        *static_cast<bool*>(flag->out) = false;
      } else {
        return Error(absl::StrCat("--", flag->name, " takes no value"));
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status FlagSet::Parse(absl::Span<const std::string> args, std::vector<std::string>* positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      for (++i; i < args.size(); ++i) positional->push_back(args[i]);
      break;
    }
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-' || (arg[1] != '-' && !absl::ascii_isalpha(arg[1]))) {
      positional->push_back(args[i]);  // includes "-" and negative numbers
      continue;
    }
    if (arg[1] != '-') return Error(absl::StrCat("unknown flag '", arg, "' (flags are spelled --name)"));
    absl::string_view body = arg.substr(2);
    std::optional<absl::string_view> inline_value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      inline_value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    Flag* flag = Find(body);
    if (flag == nullptr) return Error(absl::StrCat("unknown flag '--", body, "'"));
    if (flag->kind == Kind::kBool) {
      if (inline_value) {
        absl::Status s = SetValue(flag, *inline_value);
        if (!s.ok()) return s;
      } else {
        flag->set = true;
        *static_cast<bool*>(flag->out) = true;
      }
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) return Error(absl::StrCat("--", body, " needs a value"));
      inline_value = args[++i];
    }
    absl::Status s = SetValue(flag, *inline_value);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat("Usage: ", synopsis_, "\n\n", description_, "\n");
  if (flags_.empty()) return out;
  absl::StrAppend(&out, "\nFlags:\n");
  std::vector<std::string> heads;
  size_t width = 0;
  for (const Flag& f : flags_) {
    std::string head = absl::StrCat("  --", f.name, f.value_name.empty() ? "" : " ", f.value_name);
    width = std::max(width, head.size());
    heads.push_back(std::move(head));
  }
  heads.push_back("  -h, --help");
  width = std::max(width, heads.back().size());
  for (size_t i = 0; i < flags_.size(); ++i) {
    const Flag& f = flags_[i];
    std::string def;
    bool has_default = (f.kind == Kind::kString && !f.default_text.empty()) || f.kind == Kind::kInt;
    if (has_default && !absl::StrContains(f.help, "(default") && !absl::StrContains(f.help, "(required")) {
      def = absl::StrCat(" (default ", f.default_text, ")");
    }
    absl::StrAppend(&out, heads[i], std::string(width - heads[i].size() + 2, ' '), f.help, def, "\n");
  }
  absl::StrAppend(&out, heads.back(), std::string(width - heads.back().size() + 2, ' '), "print this help\n");
  return out;
}

}  // namespace eddy::cli
