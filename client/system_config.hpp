// The actor system configuration every fedhub program uses: CAF's I/O
// middleman (remoting) and a bounded number of scheduler threads.
#pragma once

#include <caf/actor_system_config.hpp>

namespace fedhub {

class SystemConfig : public caf::actor_system_config {
 public:
  // threads: CAF scheduler threads (CAF defaults to 4 even on 2 cores).
  explicit SystemConfig(int threads = 2);
};

}  // namespace fedhub
