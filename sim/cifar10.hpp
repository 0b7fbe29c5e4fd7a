// Finding CIFAR-10 for a simulation ("cifar10:train" / "cifar10:test" in a
// scenario): a data source string for the split, from
//   1. `given` (fl-sim --cifar PATH): a folder with train/ and test/ folders
//      of JPEG images per class, a folder of the official binaries
//      (data_batch_1.bin ... test_batch.bin), or a .tar.gz of the JPEG folders;
//   2. else $FEDHUB_CIFAR10 (the same kinds);
//   3. else cifar10-jpeg.tar.gz in the first `search` folder holding it
//      (fl-sim passes ../shared/datasets beside the checkout and the
//      current folder's).
// A .tar.gz is extracted once into `cache` (fl-sim: $XDG_CACHE_HOME/fedhub,
// else ~/.cache/fedhub), into a folder named after the archive's size, and
// used from there on later runs. Throws std::runtime_error saying where it
// looked and what to give.
#pragma once

#include <string>
#include <vector>

namespace fedhub::sim {

std::string cifar10_source(const std::string& split, const std::string& given, const std::vector<std::string>& search,
                           const std::string& cache);

// $XDG_CACHE_HOME/fedhub, else $HOME/.cache/fedhub, else /tmp/fedhub-cache.
std::string default_cache_folder();

}  // namespace fedhub::sim
