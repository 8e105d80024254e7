// BranchedKStream: the result of KStream::Split, as Kafka's BranchedKStream. Branch() adds a branch with
// its predicate; DefaultBranch() / NoDefaultBranch() finish the split and return the branches by name:
// "<split name>-<branch name>" (Branched::As) or "<split name>-<n>" (n = 1, 2, ... in Branch order) or
// "<split name>-default". A record goes to the first branch whose predicate holds; without a match, to the
// default branch, or nowhere with NoDefaultBranch.
//
// Write the whole split as one expression (each Branch returns a new object carrying the predicate types,
// so that the predicates are inlined):
//   auto branches = stream.Split().Branch(p1, eddy::Branched::As("a")).Branch(p2).DefaultBranch();
// A split that is never finished makes StreamsBuilder::Build fail.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/dsl/kstream.h"

namespace eddy {

template <typename K, typename V, typename Chain, typename... Preds>
class BranchedKStream {
 public:
  template <typename P>
    requires FilterPredicate<P, K, V>
  BranchedKStream<K, V, Chain, Preds..., P> Branch(P pred, const Branched& branched = {}) && {
    AddBranch(branched, static_cast<int>(sizeof...(Preds)) + 1);
    return BranchedKStream<K, V, Chain, Preds..., P>(
        graph_, split_, std::move(chain_), std::tuple_cat(std::move(preds_), std::tuple<P>(std::move(pred))),
        std::move(branches_));
  }
  template <typename P>
    requires(!FilterPredicate<P, K, V>)
  dsl_internal::InvalidOperation Branch(P, const Branched& = {}) && {
    static_assert(dsl_internal::kAlwaysFalse<P>, "Branch: the predicate must be callable as bool(const K&, const V&)");
    return {};
  }
  template <typename P>
  void Branch(P, const Branched& = {}) & {
    static_assert(dsl_internal::kAlwaysFalse<P>,
                  "Branch: write the split as one expression: stream.Split().Branch(a).Branch(b).DefaultBranch()");
  }

  // DefaultBranch finishes the split with a branch for the records no predicate took.
  std::map<std::string, KStream<K, V>> DefaultBranch(const Branched& branched = {}) && {
    AddBranch(branched, 0);
    return Finish(true);
  }
  // NoDefaultBranch finishes the split; records no predicate took are dropped.
  std::map<std::string, KStream<K, V>> NoDefaultBranch() && { return Finish(false); }

 private:
  template <typename, typename, typename>
  friend class KStream;
  template <typename, typename, typename, typename...>
  friend class BranchedKStream;

  BranchedKStream(dsl_internal::GraphBuilder* graph, int split, Chain chain, std::tuple<Preds...> preds,
                  std::vector<int> branches = {})
      : graph_(graph), split_(split), chain_(std::move(chain)), preds_(std::move(preds)), branches_(std::move(branches)) {}

  // index: 1-based branch number, 0 for the default branch.
  void AddBranch(const Branched& branched, int index) {
    const std::string& split_name = graph_->name(split_);
    const std::string sep = absl::EndsWith(split_name, "-") ? "" : "-";
    dsl_internal::NodeSpec spec;
    spec.role = dsl_internal::NodeRole::kBranch;
    spec.parents = {split_};
    spec.split_port = index == 0 ? static_cast<int>(sizeof...(Preds)) : index - 1;
    spec.name = absl::StrCat(split_name, sep,
                             !branched.name().empty() ? branched.name()
                             : index == 0             ? std::string("default")
                                                      : absl::StrCat(index));
    int id = graph_->AddNode(std::move(spec));
    KStream<K, V>(graph_, id, {}).RegisterEmitFactory();
    branches_.push_back(id);
  }

  std::map<std::string, KStream<K, V>> Finish(bool has_default) {
    dsl_internal::SetChainFactory(graph_, split_, chain_, [preds = preds_, has_default] {
      dsl_internal::SplitTerminal<K, V, Preds...> t;
      t.preds = preds;
      t.has_default = has_default;
      return t;
    });
    std::map<std::string, KStream<K, V>> out;
    for (int id : branches_) out.emplace(graph_->name(id), KStream<K, V>(graph_, id, {}));
    return out;
  }

  dsl_internal::GraphBuilder* graph_;
  int split_;
  Chain chain_;
  std::tuple<Preds...> preds_;
  std::vector<int> branches_;
};

}  // namespace eddy
