// rdkafka_interop: librdkafka 2.0.2 (Debian's librdkafka-dev) against a running `eddy broker`. One mode per
// run; exit code 0 when every check holds, 1 with a "FAIL:" line on stderr otherwise.
//
//   rdkafka_interop idempotent BOOTSTRAP TOPIC N
//       creates TOPIC (4 partitions), sends N keyed records with enable.idempotence=true and acks=all, checks
//       every record is delivered exactly once without error, then reads the topic back: each record once,
//       at the offset its delivery report gave, in send order per partition.
//   rdkafka_interop group BOOTSTRAP TOPIC STRATEGY
//       three members of one group on six partitions (rdkafka_group.cc).
//   rdkafka_interop produce-log BOOTSTRAP TOPIC MAX
//       sends up to MAX keyed records (about 20,000 a second at most) with acks=all, printing "partition<TAB>offset<TAB>index" for each
//       acknowledged one; stops early (exit 0) at the first delivery failure, e.g. when the broker dies.
//   rdkafka_interop commit-log BOOTSTRAP TOPIC GROUP MAX
//       consumes TOPIC in GROUP, commits synchronously every 100 records and at the end, printing
//       "partition<TAB>offset" for each commit the broker acknowledged; stops at MAX records, after 5 s
//       without records, or at the first failed commit.
//   rdkafka_interop verify BOOTSTRAP TOPIC GROUP ACKED_FILE COMMITTED_FILE exact|at-least
//       every acknowledged record of ACKED_FILE is in TOPIC at its offset, with its key and value; GROUP's
//       committed offsets equal (exact) or are at least (at-least) the last ones COMMITTED_FILE logged.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rdkafka_util.h"

namespace eddy::interop {
namespace {

struct Delivery {
  int reports = 0;
  int32_t partition = -1;
  int64_t offset = -1;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};
std::vector<Delivery> g_deliveries;
bool g_print_acks = false;
bool g_delivery_failed = false;

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  const auto i = reinterpret_cast<intptr_t>(m->_private);
  Delivery& d = g_deliveries[static_cast<size_t>(i)];
  ++d.reports;
  d.partition = m->partition;
  d.offset = m->offset;
  d.err = m->err;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    g_delivery_failed = true;
  } else if (g_print_acks) {
    std::printf("%d\t%lld\t%lld\n", m->partition, static_cast<long long>(m->offset), static_cast<long long>(i));
  }
}

void SetDeliveryCallback(rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery); }

// Produces record i (key-i, value-i) to `topic`, waiting while the local queue is full.
void Produce(rd_kafka_t* rk, const std::string& topic, int64_t i) {
  const std::string key = KeyOf(i), value = ValueOf(i);
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(i))), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) Fail("produce: " + std::string(rd_kafka_err2str(e)));
    rd_kafka_poll(rk, 50);
  }
}

int RunIdempotent(const std::string& bootstrap, const std::string& topic, int64_t n) {
  g_deliveries.assign(static_cast<size_t>(n), Delivery{});
  RdKafkaPtr rk = NewClient(RD_KAFKA_PRODUCER, bootstrap,
                            {{"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"},
                             {"partitioner", "murmur2_random"}, {"message.timeout.ms", "30000"}},
                            SetDeliveryCallback);
  CreateTopic(rk.get(), topic, 4);
  for (int64_t i = 0; i < n; ++i) {
    Produce(rk.get(), topic, i);
    rd_kafka_poll(rk.get(), 0);
  }
  if (rd_kafka_flush(rk.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("flush: not delivered within 30 s");
  char err[512];
  if (rd_kafka_fatal_error(rk.get(), err, sizeof(err)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail(std::string("idempotent producer fatal error: ") + err);
  }
  for (int64_t i = 0; i < n; ++i) {
    const Delivery& d = g_deliveries[static_cast<size_t>(i)];
    if (d.reports != 1) Fail(KeyOf(i) + ": " + std::to_string(d.reports) + " delivery reports");
    if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR) Fail(KeyOf(i) + ": " + rd_kafka_err2str(d.err));
  }
  rk.reset();

  const auto read = ReadAll(bootstrap, topic);
  int64_t total = 0;
  for (const auto& [p, records] : read) {
    int64_t previous = -1;
    for (size_t k = 0; k < records.size(); ++k) {
      const ReadRecord& r = records[k];
      const int64_t i = IndexOfKey(r.key);
      const std::string where = "partition " + std::to_string(p) + " offset " + std::to_string(r.offset);
      if (r.offset != static_cast<int64_t>(k)) Fail(where + ": expected offset " + std::to_string(k));
      if (i < 0 || i >= n) Fail(where + ": unexpected key '" + r.key + "'");
      if (r.value != ValueOf(i)) Fail(where + ": wrong value for " + r.key);
      const Delivery& d = g_deliveries[static_cast<size_t>(i)];
      if (d.partition != p || d.offset != r.offset) {
        Fail(where + ": " + r.key + " was reported delivered at partition " + std::to_string(d.partition) +
             " offset " + std::to_string(d.offset));
      }
      if (i <= previous) Fail(where + ": " + r.key + " is out of send order (or read twice)");
      previous = i;
    }
    total += static_cast<int64_t>(records.size());
  }
  if (total != n) Fail("read back " + std::to_string(total) + " records, sent " + std::to_string(n));
  std::printf("idempotent: %lld records delivered once and read back once, in order, on %zu partitions\n",
              static_cast<long long>(n), read.size());
  return 0;
}

int RunProduceLog(const std::string& bootstrap, const std::string& topic, int64_t max) {
  g_deliveries.assign(static_cast<size_t>(max), Delivery{});
  g_print_acks = true;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each acknowledged line reaches the file before the next
  RdKafkaPtr rk = NewClient(RD_KAFKA_PRODUCER, bootstrap,
                            {{"acks", "all"}, {"linger.ms", "2"}, {"partitioner", "murmur2_random"},
                             {"message.timeout.ms", "4000"}, {"queue.buffering.max.messages", "20000"}},
                            SetDeliveryCallback);
  for (int64_t i = 0; i < max && !g_delivery_failed; ++i) {
    Produce(rk.get(), topic, i);
    rd_kafka_poll(rk.get(), 0);
    if (i % 20 == 19) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // ~20,000 records/s at most
  }
  rd_kafka_flush(rk.get(), 10000);
  return 0;
}

// Commits `positions` and waits up to 5 s for the answer; prints them once the broker acknowledged. False if
// the commit failed or went unanswered (the broker is gone).
bool CommitAndLog(rd_kafka_t* rk, const std::string& topic, const std::map<int32_t, int64_t>& positions) {
  if (positions.empty()) return true;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
  for (const auto& [p, offset] : positions) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = offset;
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_resp_err_t e = rd_kafka_commit_queue(rk, list, q, nullptr, nullptr);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_event_t* ev = e == RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_queue_poll(q, 5000) : nullptr;
  bool ok = ev != nullptr && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR;
  const rd_kafka_topic_partition_list_t* done = ok ? rd_kafka_event_topic_partition_list(ev) : nullptr;
  for (int k = 0; ok && done != nullptr && k < done->cnt; ++k) ok = done->elems[k].err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (ok) {
    for (const auto& [p, offset] : positions) std::printf("%d\t%lld\n", p, static_cast<long long>(offset));
  } else {
    std::fprintf(stderr, "commit-log: commit failed or unanswered (%s), stopping\n",
                 ev != nullptr ? rd_kafka_event_error_string(ev) : rd_kafka_err2str(e));
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  return ok;
}

int RunCommitLog(const std::string& bootstrap, const std::string& topic, const std::string& group, int64_t max) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  RdKafkaPtr rk = NewClient(RD_KAFKA_CONSUMER, bootstrap,
                            {{"group.id", group}, {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"},
                             {"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}});
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_subscribe(rk.get(), sub) != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("subscribe failed");
  rd_kafka_topic_partition_list_destroy(sub);
  std::map<int32_t, int64_t> positions;
  int64_t consumed = 0;
  auto last_record = std::chrono::steady_clock::now();
  while (consumed < max && std::chrono::steady_clock::now() - last_record < std::chrono::seconds(5)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      positions[m->partition] = m->offset + 1;
      ++consumed;
      last_record = std::chrono::steady_clock::now();
    }
    rd_kafka_message_destroy(m);
    if (consumed % 100 == 0 && !CommitAndLog(rk.get(), topic, positions)) std::_Exit(0);  // no LeaveGroup wait
  }
  if (!CommitAndLog(rk.get(), topic, positions)) std::_Exit(0);
  std::fprintf(stderr, "commit-log: consumed %lld records\n", static_cast<long long>(consumed));
  rd_kafka_consumer_close(rk.get());
  return 0;
}

// Last value per partition of "partition<TAB>value..." lines.
std::map<int32_t, int64_t> LastPerPartition(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("cannot read " + path);
  std::map<int32_t, int64_t> last;
  int32_t p = 0;
  int64_t v = 0;
  std::string rest;
  while (in >> p >> v) {
    std::getline(in, rest);
    last[p] = v;
  }
  return last;
}

int RunVerify(const std::string& bootstrap, const std::string& topic, const std::string& group,
              const std::string& acked_path, const std::string& committed_path, bool exact) {
  const auto read = ReadAll(bootstrap, topic);
  std::ifstream acked(acked_path);
  if (!acked) Fail("cannot read " + acked_path);
  int32_t p = 0;
  long long offset = 0, index = 0, count = 0;
  while (acked >> p >> offset >> index) {
    ++count;
    const std::string what = KeyOf(index) + " (acknowledged at partition " + std::to_string(p) + " offset " +
                             std::to_string(offset) + ")";
    auto it = read.find(p);
    if (it == read.end() || offset >= static_cast<long long>(it->second.size())) Fail(what + " is missing");
    const ReadRecord& r = it->second[static_cast<size_t>(offset)];
    if (r.offset != offset || r.key != KeyOf(index) || r.value != ValueOf(index)) {
      Fail(what + " differs: found offset " + std::to_string(r.offset) + " key '" + r.key + "'");
    }
  }
  if (count == 0) Fail(acked_path + " holds no acknowledged record");

  const std::map<int32_t, int64_t> logged = LastPerPartition(committed_path);
  if (logged.empty()) Fail(committed_path + " holds no acknowledged commit");
  RdKafkaPtr rk = NewClient(RD_KAFKA_CONSUMER, bootstrap, {{"group.id", group}, {"enable.auto.commit", "false"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(logged.size()));
  for (const auto& [lp, lo] : logged) rd_kafka_topic_partition_list_add(list, topic.c_str(), lp);
  rd_kafka_resp_err_t e = rd_kafka_committed(rk.get(), list, 10000);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("OffsetFetch: " + std::string(rd_kafka_err2str(e)));
  for (int k = 0; k < list->cnt; ++k) {
    const int32_t cp = list->elems[k].partition;
    const int64_t got = list->elems[k].offset, want = logged.at(cp);
    const int64_t end = read.count(cp) ? static_cast<int64_t>(read.at(cp).size()) : 0;
    const std::string where = "group " + group + " partition " + std::to_string(cp);
    if (exact ? got != want : got < want) {
      Fail(where + ": committed offset " + std::to_string(got) + ", the last acknowledged commit was " +
           std::to_string(want));
    }
    if (got > end) Fail(where + ": committed offset " + std::to_string(got) + " is past the log end " + std::to_string(end));
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk.get());
  std::printf("verify: %lld acknowledged records and the committed offsets of %zu partitions are there\n", count,
              logged.size());
  return 0;
}

}  // namespace
}  // namespace eddy::interop

int main(int argc, char** argv) {
  using namespace eddy::interop;
  const std::vector<std::string> a(argv + 1, argv + argc);
  const std::string mode = a.empty() ? "" : a[0];
  if (mode == "idempotent" && a.size() == 4) return RunIdempotent(a[1], a[2], std::stoll(a[3]));
  if (mode == "group" && a.size() == 4) return RunGroupTest(a[1], a[2], a[3]);
  if (mode == "produce-log" && a.size() == 4) return RunProduceLog(a[1], a[2], std::stoll(a[3]));
  if (mode == "commit-log" && a.size() == 5) return RunCommitLog(a[1], a[2], a[3], std::stoll(a[4]));
  if (mode == "verify" && a.size() == 7) return RunVerify(a[1], a[2], a[3], a[4], a[5], a[6] == "exact");
  std::fprintf(stderr, "usage: see the comment at the top of tests/interop/rdkafka_interop.cc\n");
  return 2;
}
