// The atoms a client sees. Requests and responses carry none (they are a
// bare std::vector<char> FlatBuffer); events do.
#pragma once

#include <caf/atom.hpp>

namespace fedhub {

// hub -> subscribers: (event_atom, std::vector<char> Event)
using event_atom = caf::atom_constant<caf::atom("event")>;
// hub link -> its owner (a client): the hub went away
using lost_atom = caf::atom_constant<caf::atom("lost")>;
// hub -> subscribers: (ended_atom, std::string model, std::string why): the
// hub ended the subscription (its key was revoked); no more events come.
using ended_atom = caf::atom_constant<caf::atom("ended")>;

}  // namespace fedhub
