// The atoms that tag messages between fedhub's actors. Requests from other
// processes carry no atom: they are a bare std::vector<char> holding a
// RequestEnvelope (messages/schemas/request.fbs).
#pragma once

#include <caf/atom.hpp>

namespace fedhub {

// hub -> subscribers: (event_atom, std::vector<char> Event)
using event_atom = caf::atom_constant<caf::atom("event")>;
// hub -> model: (model_atom, std::vector<char> request, std::string caller)
using model_atom = caf::atom_constant<caf::atom("model")>;
// hub -> model: (summary_atom) -> std::vector<char> ModelSummary
using summary_atom = caf::atom_constant<caf::atom("summary")>;
// model -> collector: (upload_atom, std::vector<char> request, std::string caller)
using upload_atom = caf::atom_constant<caf::atom("upload")>;
// collector -> model: (accepted_atom, std::vector<char> Event)
using accepted_atom = caf::atom_constant<caf::atom("accepted")>;
// collector -> merger: (fold_atom, uint64_t pending_seq, std::vector<char> ContributionSummary)
using fold_atom = caf::atom_constant<caf::atom("fold")>;
// model -> merger: (merge_atom, uint64_t base) -> std::vector<char> response
using merge_atom = caf::atom_constant<caf::atom("merge")>;
// merger -> model: (merged_atom, std::vector<char> MergeReceipt response), once per new version
using merged_atom = caf::atom_constant<caf::atom("merged")>;
// model -> collector: (published_atom, uint64_t new_version)
using published_atom = caf::atom_constant<caf::atom("published")>;
// model -> merger: (policy_atom, std::string patch) -> std::vector<char> response;
// merger -> model and model -> collector: (policy_atom, std::string policy)
using policy_atom = caf::atom_constant<caf::atom("policy")>;
// hub link -> its owner (a client): the hub went away
using lost_atom = caf::atom_constant<caf::atom("lost")>;
// merger -> itself: the interval trigger
using tick_atom = caf::atom_constant<caf::atom("tick")>;

}  // namespace fedhub
