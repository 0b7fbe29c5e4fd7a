# The fuzz build (cmake -DFEDHUB_FUZZ=ON with clang; `make fuzz`,
# scripts/fuzz.sh, docs/fuzzing.md): only the pure libraries the decoders
# live in (model, datasets, federation, messages, formats) and tests/fuzz, every file
# compiled with libFuzzer's coverage and ASan + UBSan, the targets linked
# with libFuzzer's main. No CAF, RocksDB, OpenSSL or Boost.Test. Included by
# the top-level CMakeLists.txt, which stops after it.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "FEDHUB_FUZZ needs clang++ (libFuzzer), not ${CMAKE_CXX_COMPILER_ID}: "
                      "configure with CC=clang CXX=clang++ (make fuzz does)")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g -Wno-pass-failed)
add_link_options(-fsanitize=address,undefined)

find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED)
find_package(FlatBuffers CONFIG REQUIRED)
find_package(Eigen3 3.4 CONFIG REQUIRED)
find_package(Boost 1.74 CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)

add_subdirectory(model)
add_subdirectory(datasets)
add_subdirectory(federation)
add_subdirectory(messages)
# formats (weights files, ONNX, Keras HDF5): Debian's libonnx-dev and libhdf5-dev,
# which are not instrumented; formats/CMakeLists.txt finds HDF5 itself.
find_package(Protobuf REQUIRED)
find_package(ONNX CONFIG REQUIRED)
add_subdirectory(formats)
add_subdirectory(tests/fuzz)
