// FlagSet: the eddy tool's small command-line flag parser (no dependency). Each command declares its flags
// with a pointer to where the value goes, then parses the words after the command name:
//
//   int64_t partitions = 0;
//   FlagSet flags("eddy topics create NAME --partitions N [--config k=v ...]", "Creates a topic.");
//   flags.AddInt("partitions", &partitions, "N", "number of partitions (required)", 1, INT32_MAX);
//   EDDY_RETURN_IF_ERROR(flags.Parse(args, &positional));
//   if (flags.help_requested()) { ...print flags.Usage()... }
//
// Accepted spellings: `--name value`, `--name=value`, `--bool-flag`; `-h` and `--help` ask for usage; `--`
// ends the flags (later words are positional, even if they start with '-'). Flags may come before, between
// or after positional arguments. A value that starts with '-' is taken as the value (`--offset -10`).
//
// Thread-compatible; the pointers given to Add* must outlive Parse.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eddy::cli {

class FlagSet {
 public:
  // `synopsis` is the one-line usage ("eddy produce TOPIC [flags]"), `description` a short paragraph.
  FlagSet(std::string synopsis, std::string description);

  // Add* declare a flag named `name` (without the leading dashes). `value_name` is shown in the usage
  // ("--partitions N"). The current value of *out is the default, shown in the usage unless `help` already
  // says "(default ...)" or "(required)" (for flags whose unset value is a sentinel such as -1).
  void AddString(std::string name, std::string* out, std::string value_name, std::string help);
  // AddInt rejects values outside [min, max] with kInvalidArgument naming the flag.
  void AddInt(std::string name, int64_t* out, std::string value_name, std::string help,
              int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  // AddBool: a flag without a value; present means true.
  void AddBool(std::string name, bool* out, std::string help);
  // AddList: a flag that may be repeated; every value is appended to *out.
  void AddList(std::string name, std::vector<std::string>* out, std::string value_name, std::string help);

  // Parse reads `args` (the words after the command name), storing flag values and appending the other
  // words to *positional. kInvalidArgument for an unknown flag, a missing or malformed value; the message
  // names the flag and says where to find the usage.
  absl::Status Parse(absl::Span<const std::string> args, std::vector<std::string>* positional);

  bool help_requested() const { return help_requested_; }
  // IsSet: whether the flag appeared on the command line (to tell "not given" from "given the default").
  bool IsSet(absl::string_view name) const;

  // Usage: the synopsis, the description and one line per flag with its help and default.
  std::string Usage() const;
  // The synopsis' command words ("eddy topics create"), for error messages.
  std::string CommandName() const;
  // The synopsis' placeholder for positional argument `index` ("NAME" in "eddy topics create NAME ..."),
  // or "argument" if it has none.
  std::string PositionalName(size_t index) const;

 private:
  enum class Kind { kString, kInt, kBool, kList };
  struct Flag {
    std::string name;
    Kind kind;
    void* out;
    std::string value_name;
    std::string help;
    std::string default_text;
    int64_t min = INT64_MIN;
    int64_t max = INT64_MAX;
    bool set = false;
  };
  Flag* Find(absl::string_view name);
  absl::Status SetValue(Flag* flag, absl::string_view value);
  absl::Status Error(absl::string_view message) const;

  std::string synopsis_;
  std::string description_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

}  // namespace eddy::cli
