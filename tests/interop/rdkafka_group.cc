// rdkafka_interop group: three librdkafka consumers of one group on a six-partition topic, driven in turn
// from one thread, with partition.assignment.strategy = STRATEGY (range, roundrobin or cooperative-sticky:
// the broker only relays the leader's assignment, so any client-side assignor works; cooperative-sticky
// rebalances incrementally through ordinary JoinGroup/SyncGroup rounds).
//
// Checks: each member gets two partitions; after 600 records are produced and half consumed (each member
// committing every 7 records, so some consumed records are not committed), member C closes and the other two
// take its partitions; every record is consumed, none is
// skipped, and a partition's new owner starts exactly at its last committed offset (so only records consumed
// after the last commit are consumed twice); the final commits are what OffsetFetch returns.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rdkafka_util.h"

namespace eddy::interop {
namespace {

constexpr int kPartitions = 6;
constexpr int64_t kPerPartition = 100;
constexpr int kCommitEvery = 7;

struct GroupLedger {
  std::map<int32_t, int64_t> committed;        // last acknowledged commit per partition
  std::map<int32_t, std::set<int64_t>> seen;   // offsets consumed at least once
  int64_t consumed = 0;
  int64_t consumed_again = 0;                  // records consumed twice (all after a last commit)
};

struct Member {
  std::string name;
  GroupLedger* ledger = nullptr;
  RdKafkaPtr rk;
  std::set<int32_t> owned;
  std::set<int32_t> fresh;                 // owned partitions whose first record is still to come
  std::map<int32_t, int64_t> positions;    // next offset per owned partition that consumed something
  int64_t consumed = 0;
  int since_commit = 0;
};

std::string List(const std::set<int32_t>& s) {
  std::string out;
  for (int32_t p : s) {
    if (!out.empty()) out += ',';
    out += std::to_string(p);
  }
  return "[" + out + "]";
}

void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* m = static_cast<Member*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  std::set<int32_t> changed;
  for (int k = 0; k < parts->cnt; ++k) changed.insert(parts->elems[k].partition);
  std::fprintf(stderr, "%s: %s %s\n", m->name.c_str(),
               err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assigned" : "revoked", List(changed).c_str());
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int k = 0; k < parts->cnt; ++k) {
      m->owned.insert(parts->elems[k].partition);
      m->fresh.insert(parts->elems[k].partition);
    }
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts);
      if (e != nullptr) Fail(m->name + ": incremental_assign: " + rd_kafka_error_string(e));
    } else if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail(m->name + ": assign failed");
    }
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    for (int k = 0; k < parts->cnt; ++k) {
      m->owned.erase(parts->elems[k].partition);
      m->fresh.erase(parts->elems[k].partition);
      m->positions.erase(parts->elems[k].partition);  // consumed but not committed: the next owner re-reads
    }
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
      if (e != nullptr) Fail(m->name + ": incremental_unassign: " + rd_kafka_error_string(e));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  } else {
    Fail(m->name + ": rebalance error " + rd_kafka_err2str(err));
  }
}

// Commits m's positions synchronously; returns the request's error, else the first partition's error.
rd_kafka_resp_err_t Commit(Member& m, const std::string& topic) {
  if (m.positions.empty()) return RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(m.positions.size()));
  for (const auto& [p, next] : m.positions) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = next;
  rd_kafka_resp_err_t e = rd_kafka_commit(m.rk.get(), list, 0);
  // A commit refused during a rebalance is not an error of the broker: those records stay uncommitted.
  for (int k = 0; k < list->cnt; ++k) {
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[k].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      m.ledger->committed[list->elems[k].partition] = list->elems[k].offset;
    } else if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      e = list->elems[k].err;
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  m.since_commit = 0;
  return e;
}

// Polls member m once; checks and records a consumed record.
void PollOnce(Member& m, const std::string& topic) {
  rd_kafka_message_t* msg = rd_kafka_consumer_poll(m.rk.get(), 30);
  if (msg == nullptr) return;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const rd_kafka_resp_err_t err = msg->err;
    const std::string why = rd_kafka_message_errstr(msg);
    rd_kafka_message_destroy(msg);
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    Fail(m.name + ": consume error: " + why);
  }
  const int32_t p = msg->partition;
  const int64_t offset = msg->offset;
  rd_kafka_message_destroy(msg);
  const std::string where = m.name + " partition " + std::to_string(p) + " offset " + std::to_string(offset);
  if (!m.owned.count(p)) Fail(where + ": consumed a partition it does not own " + List(m.owned));
  GroupLedger& g = *m.ledger;
  if (m.fresh.erase(p)) {
    const int64_t expected = g.committed.count(p) ? g.committed[p] : 0;
    if (offset != expected) {
      Fail(where + ": the first record after the assignment, expected the last committed offset " +
           std::to_string(expected));
    }
  } else if (offset != m.positions[p]) {
    Fail(where + ": expected offset " + std::to_string(m.positions[p]) + " (skipped or repeated records)");
  }
  if (!g.seen[p].insert(offset).second) ++g.consumed_again;
  ++g.consumed;
  ++m.consumed;
  m.positions[p] = offset + 1;
  if (++m.since_commit >= kCommitEvery) Commit(m, topic);
}

// Polls the members in turn until done() or 30 s have passed (then fails with `what`).
template <typename Done>
void PollUntil(std::vector<Member*> members, const std::string& topic, const std::string& what, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::string state;
      for (Member* m : members) state += " " + m->name + "=" + List(m->owned);
      Fail("timed out waiting for " + what + ";" + state);
    }
    for (Member* m : members) PollOnce(*m, topic);
  }
}

}  // namespace

int RunGroupTest(const std::string& bootstrap, const std::string& topic, const std::string& strategy) {
  RdKafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, bootstrap, {{"acks", "all"}, {"linger.ms", "5"}});
  CreateTopic(producer.get(), topic, kPartitions);

  GroupLedger ledger;
  Member a{"A", &ledger}, b{"B", &ledger}, c{"C", &ledger};
  const std::string group = topic + "-group";
  for (Member* m : {&a, &b, &c}) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    const Settings settings = {{"bootstrap.servers", bootstrap}, {"group.id", group}, {"client.id", m->name},
                               {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"},
                               {"partition.assignment.strategy", strategy}, {"session.timeout.ms", "6000"},
                               {"heartbeat.interval.ms", "300"}, {"fetch.wait.max.ms", "100"}};
    for (const auto& [k, v] : settings) {
      if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) Fail(k + ": " + err);
    }
    if (const char* debug = std::getenv("EDDY_RDKAFKA_DEBUG")) {  // e.g. cgrp,assignor when a check fails
      rd_kafka_conf_set(conf, "debug", debug, err, sizeof(err));
    }
    rd_kafka_conf_set_rebalance_cb(conf, OnRebalance);
    rd_kafka_conf_set_opaque(conf, m);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == nullptr) Fail(std::string("rd_kafka_new: ") + err);
    m->rk.reset(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, sub) != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("subscribe failed");
    rd_kafka_topic_partition_list_destroy(sub);
  }

  auto owns_all = [](const std::vector<Member*>& ms, size_t each) {
    std::set<int32_t> all;
    for (Member* m : ms) {
      if (m->owned.size() != each) return false;
      all.insert(m->owned.begin(), m->owned.end());
    }
    return all.size() == static_cast<size_t>(kPartitions);
  };
  PollUntil({&a, &b, &c}, topic, "three members with two partitions each", [&] { return owns_all({&a, &b, &c}, 2); });
  const std::set<int32_t> c_before = c.owned;
  std::printf("group %s: A=%s B=%s C=%s\n", strategy.c_str(), List(a.owned).c_str(), List(b.owned).c_str(),
              List(c.owned).c_str());

  for (int32_t p = 0; p < kPartitions; ++p) {
    for (int64_t i = 0; i < kPerPartition; ++i) {
      const std::string v = ValueOf(p * kPerPartition + i);
      rd_kafka_resp_err_t e = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                                                RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("produce: " + std::string(rd_kafka_err2str(e)));
    }
  }
  if (rd_kafka_flush(producer.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("flush timed out");

  const int64_t total = kPartitions * kPerPartition;
  PollUntil({&a, &b, &c}, topic, "half the records consumed",
            [&] { return ledger.consumed >= total / 2 && c.consumed >= 20; });

  rd_kafka_consumer_close(c.rk.get());  // LeaveGroup; its uncommitted records go to the next owners
  c.rk.reset();
  // Every offset seen is not enough: C may have consumed a partition to its end after its last commit, and
  // the partition's new owner must re-read those records (and hold position kPerPartition to commit) before
  // the final commits, or they leave the committed offset short of the end.
  auto everything_consumed = [&] {
    if (!owns_all({&a, &b}, 3)) return false;
    for (int32_t p = 0; p < kPartitions; ++p) {
      if (ledger.seen[p].size() != static_cast<size_t>(kPerPartition)) return false;
      const Member& owner = a.owned.count(p) ? a : b;
      const auto at = owner.positions.find(p);
      const auto last_commit = ledger.committed.find(p);
      const int64_t reached = at != owner.positions.end()         ? at->second
                              : last_commit != ledger.committed.end() ? last_commit->second
                                                                      : 0;
      if (reached != kPerPartition) return false;
    }
    return true;
  };
  PollUntil({&a, &b}, topic, "A and B to take C's partitions and consume everything", everything_consumed);
  // The final commits must be accepted. A member the coordinator is still rebalancing gets
  // REBALANCE_IN_PROGRESS or ILLEGAL_GENERATION, as from Kafka; it polls (which completes its rejoin, and a
  // new owner re-reads from the last commit) and commits again.
  PollUntil({&a, &b}, topic, "the final commits of A and B to be accepted", [&] {
    bool accepted = true;
    for (Member* m : {&a, &b}) {
      const rd_kafka_resp_err_t e = Commit(*m, topic);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "%s: final commit refused (%s), polling and committing again\n", m->name.c_str(),
                     rd_kafka_err2str(e));
        accepted = false;
      }
    }
    return accepted;
  });
  std::printf("group %s after C left: A=%s B=%s\n", strategy.c_str(), List(a.owned).c_str(), List(b.owned).c_str());

  for (int32_t p = 0; p < kPartitions; ++p) {
    const std::set<int64_t>& s = ledger.seen[p];
    if (*s.begin() != 0 || *s.rbegin() != kPerPartition - 1) Fail("partition " + std::to_string(p) + " has gaps");
  }
  // Not checked: that cooperative-sticky members keep their own partitions. A commit the application sends
  // while its member is rejoining reaches the coordinator after the new generation began and gets
  // ILLEGAL_GENERATION (as from Kafka, which reads a connection's next request only after answering the
  // JoinGroup); librdkafka then treats its partitions as lost and the leader may move them.
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
  for (int32_t p = 0; p < kPartitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  if (rd_kafka_committed(a.rk.get(), list, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("OffsetFetch failed");
  for (int k = 0; k < list->cnt; ++k) {
    if (list->elems[k].offset != kPerPartition) {
      Fail("partition " + std::to_string(list->elems[k].partition) + ": committed offset " +
           std::to_string(list->elems[k].offset) + ", expected " + std::to_string(kPerPartition));
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  for (Member* m : {&a, &b}) rd_kafka_consumer_close(m->rk.get());
  std::printf("group %s: %lld records consumed, %lld of them again after C left (all after a last commit; C "
              "owned %s)\n",
              strategy.c_str(), static_cast<long long>(ledger.consumed), static_cast<long long>(ledger.consumed_again),
              List(c_before).c_str());
  return 0;
}

}  // namespace eddy::interop
