#include "client/json_views.hpp"

#include <cmath>

#include "messages/provenance.hpp"

namespace fedhub::json_views {

namespace {

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

json strings(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  json out = json::array();
  if (v)
    for (const auto* s : *v) out.push_back(s->str());
  return out;
}

json merged(const flatbuffers::Vector<flatbuffers::Offset<fb::MergedContribution>>* v) {
  json out = json::array();
  if (v)
    for (const auto* c : *v)
      out.push_back({{"participant", c->participant()->str()},
                     {"base_version", c->base_version()},
                     {"staleness", c->staleness()},
                     {"num_samples", c->num_samples()},
                     {"weight", c->weight()},
                     {"clipped", c->clipped()}});
  return out;
}

}  // namespace

const char* role_name(fb::Role role) { return role == fb::Role::manager ? "manager" : "participant"; }

json model_summary(const fb::ModelSummary& m) {
  return json{{"name", m.name()->str()},
              {"current_version", m.current_version()},
              {"pending_contributions", m.pending_contributions()},
              {"min_contributions", m.min_contributions()},
              {"parameters", m.parameters()},
              {"labels", m.labels()},
              {"merging", m.merging()},
              {"archived", m.archived()},
              {"oldest_retained", m.oldest_retained()},
              {"open_uploads", m.open_uploads()},
              {"created_at_ms", m.created_at_ms()},
              {"policy", m.policy_json() ? json::parse(m.policy_json()->str(), nullptr, false) : json()}};
}

json model_list(const fb::ModelList& list) {
  json out = json::array();
  for (const auto* m : *list.models()) out.push_back(model_summary(*m));
  return out;
}

json model_status(const fb::ModelStatus& st) {
  json out = model_summary(*st.summary());
  out["version"] = st.version();
  json contributions = json::array();
  for (const auto* c : *st.contributions()) {
    json metrics = json::object();
    if (c->metrics())
      for (const auto* x : *c->metrics()) metrics[x->name()->str()] = x->value();
    contributions.push_back({{"participant", c->participant()->str()},
                             {"num_samples", c->num_samples()},
                             {"received_at_ms", c->received_at_ms()},
                             {"metrics", metrics}});
  }
  out["contributions"] = contributions;
  json versions = json::array();
  if (st.versions())
    for (const auto* v : *st.versions())
      versions.push_back({{"version", v->version()},
                          {"created_at_ms", v->created_at_ms()},
                          {"base_version", v->base_version()},
                          {"contributions", v->contributions()},
                          {"total_samples", v->total_samples()},
                          {"aggregator", str(v->aggregator())},
                          {"rolled_back_from", v->rolled_back_from()}});
  out["versions"] = versions;
  if (st.evaluation() && st.evaluation()->size() > 0) {
    out["evaluation"] = scores({reinterpret_cast<const char*>(st.evaluation()->data()), st.evaluation()->size()});
  }
  return out;
}

json merge_receipt(const fb::MergeReceiptT& r) {
  return json{{"model", r.model},
              {"base_version", r.base_version},
              {"new_version", r.new_version},
              {"contributors", r.contributors},
              {"total_samples", r.total_samples}};
}

json merge_receipt(const fb::MergeReceipt& r) {
  fb::MergeReceiptT t;
  r.UnPackTo(&t);
  return merge_receipt(t);
}

json upload_receipt(const fb::UploadReceiptT& r) {
  return json{{"model", r.model},
              {"base_version", r.base_version},
              {"participant", r.participant},
              {"contributions", r.contributions}};
}

json key_created(const fb::KeyCreated& k) {
  return json{{"name", k.name()->str()}, {"role", role_name(k.role())}, {"key", k.key()->str()}};
}

json key_list(const fb::KeyList& list) {
  json out = json::array();
  for (const auto* k : *list.keys())
    out.push_back({{"name", k->name()->str()},
                   {"role", role_name(k->role())},
                   {"created_at_ms", k->created_at_ms()},
                   {"revoked", k->revoked()}});
  return out;
}

json identity(const fb::Identity& id) { return json{{"name", id.name()->str()}, {"role", role_name(id.role())}}; }

json policy(const fb::PolicyInfo& p) { return json::parse(str(p.policy_json()), nullptr, false); }

json version_published(const fb::VersionPublished& v) {
  return json{{"version", v.version()},
              {"base_version", v.base_version()},
              {"aggregator", str(v.aggregator())},
              {"contributors", strings(v.contributors())},
              {"total_samples", v.total_samples()},
              {"contributions", merged(v.contributions())},
              {"dropped", v.dropped()},
              {"rolled_back_from", v.rolled_back_from()}};
}

json contribution_accepted(const fb::ContributionAccepted& a) {
  return json{{"participant", a.participant()->str()},
              {"base_version", a.base_version()},
              {"num_samples", a.num_samples()},
              {"contributions", a.contributions()}};
}

json event(const fb::Event& e) {
  if (const auto* v = e.body_as_VersionPublished()) {
    auto j = version_published(*v);
    j["event"] = "version";
    j["model"] = v->model()->str();
    j["at_ms"] = e.at_ms();
    return j;
  }
  if (const auto* a = e.body_as_ContributionAccepted()) {
    auto j = contribution_accepted(*a);
    j["event"] = "contribution";
    j["model"] = a->model()->str();
    j["at_ms"] = e.at_ms();
    return j;
  }
  if (const auto* v = e.body_as_VersionEvaluated()) {
    json j = v->scores() ? scores({reinterpret_cast<const char*>(v->scores()->data()), v->scores()->size()})
                         : json{{"version", v->version()}};
    j["event"] = "evaluated";
    j["model"] = v->model()->str();
    j["at_ms"] = e.at_ms();
    return j;
  }
  return json{{"event", "unknown"}, {"at_ms", e.at_ms()}};
}

namespace {

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

json scores(std::span<const char> bytes, const std::vector<std::string>& labels) {
  const Buffer record(bytes.begin(), bytes.end());  // aligned for the verifier
  const auto s = read_scores(record);
  json per_class = labels.size() == s.per_class_accuracy.size() ? json::object() : json::array();
  for (size_t i = 0; i < s.per_class_accuracy.size(); ++i) {
    if (per_class.is_object())
      per_class[labels[i]] = number_or_null(s.per_class_accuracy[i]);
    else
      per_class.push_back(number_or_null(s.per_class_accuracy[i]));
  }
  json contributions = json::array();
  for (const auto& c : s.contributions)
    contributions.push_back({{"participant", c->participant},
                             {"upload_id", c->upload_id},
                             {"cosine", number_or_null(c->cosine)},
                             {"loo_loss_change", number_or_null(c->loo_loss_change)},
                             {"flagged", c->flagged}});
  json j{
      {"version", s.version},           {"evaluated", s.evaluated}, {"eval_data", s.eval_data},      {"note", s.note},
      {"contributions", contributions}, {"seconds", s.seconds},     {"scored_at_ms", s.scored_at_ms}};
  if (s.evaluated) {
    j["samples"] = s.samples;
    j["loss"] = number_or_null(s.loss);
    j["accuracy"] = number_or_null(s.accuracy);
    j["per_class_accuracy"] = per_class;
  }
  return j;
}

json leaderboard(const fb::Leaderboard& b) {
  json rows = json::array();
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  uint64_t rank = b.first_rank();
  for (const auto* r : *b.rows())
    rows.push_back({{"rank", rank++},
                    {"participant", r->participant()->str()},
                    {"contributions", r->contributions()},
                    {"samples", r->samples()},
                    {"mean_weight_share", r->mean_weight_share()},
                    {"mean_staleness", r->mean_staleness()},
                    {"mean_cosine", num(r->mean_cosine())},
                    {"mean_loo_loss_change", num(r->mean_loo())},
                    {"score", num(r->score())},
                    {"flagged", r->flagged()},
                    {"excluded", r->excluded()},
                    {"last_version", r->last_version()}});
  return rows;
}

}  // namespace fedhub::json_views
