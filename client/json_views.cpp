#include "client/json_views.hpp"

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
  return json{{"event", "unknown"}, {"at_ms", e.at_ms()}};
}

}  // namespace fedhub::json_views
