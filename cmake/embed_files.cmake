# cmake -DOUT=file.cpp -DDIR=folder -P embed_files.cmake
# Writes OUT: fedhub::http::embedded_web_files(), every file of DIR (not its
# sub-folders) by name, as bytes. Run by http/CMakeLists.txt when a file of
# web/ changes.
file(GLOB files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(body "")
set(index 0)
foreach(f ${files})
  if(IS_DIRECTORY ${DIR}/${f})
    continue()
  endif()
  file(READ ${DIR}/${f} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "const unsigned char file_${index}[] = {${bytes}0};\n")
  string(APPEND entries "      {\"${f}\", std::string(reinterpret_cast<const char*>(file_${index}), ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from ${DIR} by cmake/embed_files.cmake: do not edit.\n#include <map>\n#include <string>\n\nnamespace fedhub::http {\nnamespace {\n${body}}  // namespace\n\nconst std::map<std::string, std::string>& embedded_web_files() {\n  static const std::map<std::string, std::string> files{\n${entries}  };\n  return files;\n}\n\n}  // namespace fedhub::http\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
