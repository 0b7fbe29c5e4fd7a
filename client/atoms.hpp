// The atoms a client sees. Requests and responses carry none (they are a
// bare std::vector<char> FlatBuffer); events do.
#pragma once

#include <caf/atom.hpp>

namespace fedhub {

// hub -> subscribers: (event_atom, std::vector<char> Event)
using event_atom = caf::atom_constant<caf::atom("event")>;
// hub link -> its owner (a client): the hub went away
using lost_atom = caf::atom_constant<caf::atom("lost")>;

}  // namespace fedhub
