// Verifying requests (the hub). Clients build them with client/requests.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "messages/buffer.hpp"
#include "messages/model_spec_generated.h"
#include "messages/request_generated.h"
#include "model/tensor.hpp"

namespace fedhub::requests {

// Verifies a received request; throws RequestError naming the defect:
//  - bad_request: the envelope or its body is malformed, the request type is
//    unknown (a client of another release), UploadBegin's header is not a
//    valid contribution header (verify_contribution_header: identifier,
//    data_bytes against its tensors), an UploadPart's offset or length is
//    not a multiple of 4 (parts hold whole float32 values), CreateModel's
//    initial_weights length is not a multiple of 4;
//  - bad_checksum: an UploadPart whose hash is not XXH3-64 of its data;
//  - bad_shape: UploadBegin's header has a negative or overflowing shape.
// What is left to the hub: everything that needs the model (names, shapes,
// sizes against its layout, session state, finite values).
const fb::RequestEnvelope* verify(std::span<const char> data);

// The model a verified request is about (UploadBegin: its header's model),
// or "" for hub-wide requests.
std::string model_of(const fb::RequestEnvelope& request);

}  // namespace fedhub::requests
