// The hub's own types that travel between the actors of one model (model,
// merger, journal): plain data, passed by value, never a pointer into
// another actor's state. The weights inside MergeOutcome and
// LoadedModelState are an immutable shared image (hub/version_image.hpp),
// so a local message does not copy a model.
//
// They are whitelisted for local messages only: the hub keeps a model's
// actors on one node. Splitting them across nodes needs inspect() overloads
// that send the image's bytes; everything that crosses a process boundary
// today is a verified FlatBuffer in a std::vector<char>.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include "hub/merge_engine.hpp"
#include "hub/model_core.hpp"
#include "persistence/store.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedhub::UploadSession)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedhub::ContributionNote)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedhub::MergeOrder)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedhub::RollbackOrder)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedhub::MergeOutcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedhub::LoadedModelState)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedhub::StoreBatch)
