// A fixture for the end-to-end tests of the example binaries (build/bin/order-to-shipment,
// build/bin/sales-windowed): a broker on <temp dir>/data that the test uses to produce and read, closed
// while a binary runs (one process at a time may open a data directory) and opened again afterwards.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e_util.h"

namespace eddy::e2e {

inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ExampleE2eTest : public E2eTest {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    // The broker's default retention check (every 5 minutes), not the tests' 100 ms: the examples' results
    // carry event time from 2024, which a 7-day retention.ms would delete at the first check.
    configs_ = {};
    OpenDataBroker();
  }
  std::string data_dir() const { return dir_.path() + "/data"; }
  void OpenDataBroker() {
    absl::StatusOr<std::unique_ptr<Broker>> broker = Broker::Open({.data_dir = data_dir(), .configs = configs_});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }
  void CloseDataBroker() {
    if (broker_ == nullptr) return;
    E2E_EXPECT_OK(broker_->Close());
    broker_.reset();
  }

  // RunBinary runs build/bin/<binary> --data-dir <data dir> <flags> with the broker closed meanwhile and
  // returns its standard output; fails the test unless it exits 0.
  std::string RunBinary(const std::string& binary, const std::string& flags) {
    CloseDataBroker();
    const std::string out_file = dir_.path() + "/app.out";
    const std::string cmd = absl::StrCat(EDDY_BIN_DIR, "/", binary, " --data-dir ", data_dir(), " ", flags, " > ",
                                         out_file, " 2>", err_file());
    const int rc = system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
        << cmd << " -> " << rc << "\n" << ReadFileText(err_file());
    OpenDataBroker();
    return ReadFileText(out_file);
  }

  // StartBinary starts build/bin/<binary> --data-dir <data dir> <args> in the background (the broker must be
  // closed), its stdout to /dev/null and its stderr to err_file(), and returns its pid.
  pid_t StartBinary(const std::string& binary, const std::vector<std::string>& args) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    freopen("/dev/null", "w", stdout);
    freopen(err_file().c_str(), "w", stderr);
    const std::string bin = absl::StrCat(EDDY_BIN_DIR, "/", binary);
    const std::string data = data_dir();
    std::vector<char*> argv = {const_cast<char*>(bin.c_str()), const_cast<char*>("--data-dir"),
                               const_cast<char*>(data.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  std::string err_file() const { return dir_.path() + "/app.err"; }
  // WaitForStderr waits until the started binary's stderr contains `text` (or the deadline passes).
  bool WaitForStderr(const std::string& text) {
    const absl::Time end = absl::Now() + kDeadline;
    while (absl::Now() < end) {
      if (ReadFileText(err_file()).find(text) != std::string::npos) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // ReadAll reads every record of `topic`, partition by partition, each in offset order.
  std::vector<OwnedRecord> ReadAll(const std::string& topic) {
    std::unique_ptr<Consumer> c = NewConsumer(EarliestConfig());
    std::vector<TopicPartition> tps;
    int64_t total = 0;
    const absl::StatusOr<TopicDescription> d = admin().DescribeTopic(topic);
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) return {};
    for (const auto& p : d->partitions) {
      tps.push_back({topic, p.partition});
      total += p.log_end_offset - p.log_start_offset;
    }
    EXPECT_TRUE(c->Assign(tps).ok());
    std::vector<OwnedRecord> out;
    EXPECT_TRUE(PollFor(c.get(), static_cast<size_t>(total), &out).ok());
    std::stable_sort(out.begin(), out.end(), [](const OwnedRecord& a, const OwnedRecord& b) {
      return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
    });
    return out;
  }
};

}  // namespace eddy::e2e
