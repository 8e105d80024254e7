#include "rdkafka_util.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace eddy::interop {

void Fail(const std::string& message) {
  std::fprintf(stderr, "rdkafka_interop: FAIL: %s\n", message.c_str());
  std::exit(1);
}

RdKafkaPtr NewClient(rd_kafka_type_t type, const std::string& bootstrap, const Settings& settings,
                     void (*setup)(rd_kafka_conf_t*)) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  Settings all = {{"bootstrap.servers", bootstrap}};
  all.insert(all.end(), settings.begin(), settings.end());
  for (const auto& [name, value] : all) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      Fail("config " + name + "=" + value + ": " + err);
    }
  }
  if (setup != nullptr) setup(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));  // takes conf on success
  if (rk == nullptr) Fail(std::string("rd_kafka_new: ") + err);
  if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
  return RdKafkaPtr(rk);
}

void CreateTopic(rd_kafka_t* rk, const std::string& topic, int partitions) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  if (nt == nullptr) Fail(std::string("NewTopic: ") + err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev == nullptr) Fail("CreateTopics: no answer within 30 s");
  if (rd_kafka_event_error(ev)) Fail(std::string("CreateTopics: ") + rd_kafka_event_error_string(ev));
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  if (n != 1) Fail("CreateTopics: expected one topic result, got " + std::to_string(n));
  if (rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail("CreateTopics " + topic + ": " + rd_kafka_err2str(rd_kafka_topic_result_error(results[0])));
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
}

int PartitionCount(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
  rd_kafka_topic_destroy(t);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("Metadata " + topic + ": " + rd_kafka_err2str(e));
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail("Metadata " + topic + ": topic missing or in error");
  }
  const int n = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  return n;
}

std::map<int32_t, std::vector<ReadRecord>> ReadAll(const std::string& bootstrap, const std::string& topic) {
  RdKafkaPtr rk = NewClient(RD_KAFKA_CONSUMER, bootstrap,
                            {{"group.id", "eddy-interop-reader"}, {"enable.auto.commit", "false"}});
  const int partitions = PartitionCount(rk.get(), topic);
  std::map<int32_t, int64_t> high;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo, &hi, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("watermarks: " + std::string(rd_kafka_err2str(e)));
    if (hi > 0) high[p] = hi;
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_assign(rk.get(), list) != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("assign failed");
  rd_kafka_topic_partition_list_destroy(list);

  std::map<int32_t, std::vector<ReadRecord>> out;
  std::map<int32_t, int64_t> next;
  auto done = [&] {
    for (const auto& [p, hi] : high) {
      if (next[p] < hi) return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) Fail("ReadAll " + topic + ": not at the end after 30 s");
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) Fail("ReadAll: " + std::string(rd_kafka_message_errstr(m)));
    out[m->partition].push_back(ReadRecord{
        m->offset, std::string(static_cast<const char*>(m->key), m->key_len),
        std::string(static_cast<const char*>(m->payload), m->len)});
    next[m->partition] = m->offset + 1;
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

std::string KeyOf(int64_t i) { return "key-" + std::to_string(i); }

std::string ValueOf(int64_t i) {
  return "value-" + std::to_string(i) + "-" + std::string(static_cast<size_t>(i % 97), 'v');
}

int64_t IndexOfKey(const std::string& key) {
  if (key.rfind("key-", 0) != 0 || key.size() == 4) return -1;
  int64_t i = 0;
  for (size_t k = 4; k < key.size(); ++k) {
    if (key[k] < '0' || key[k] > '9') return -1;
    i = i * 10 + (key[k] - '0');
  }
  return i;
}

}  // namespace eddy::interop
