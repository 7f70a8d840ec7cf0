# Fails the build when a source file includes a header of a layer its own layer may not use.
# Called by llmcc_layer() (CMakeLists.txt) with:
#   ROOT     the source tree
#   LAYER    the layer's folder under src/ (e.g. runtime)
#   ALLOWED  ;-separated layers it may include, besides itself
#   STAMP    the file to touch when every include is allowed
# Includes are "layer/file.h"; the public headers include/llmcc/X.h belong to the layers named in
# PUBLIC_HEADER_LAYERS below.
cmake_minimum_required(VERSION 3.25)

set(PUBLIC_HEADER_LAYERS "model_abi.h=abi" "runtime.h=runtime" "compile.h=compile")

string(REPLACE "," ";" ALLOWED "${ALLOWED}")
list(APPEND ALLOWED ${LAYER})
file(GLOB_RECURSE sources RELATIVE ${ROOT} ${ROOT}/src/${LAYER}/*.h ${ROOT}/src/${LAYER}/*.cc)
set(violations "")
foreach(source IN LISTS sources)
  file(STRINGS ${ROOT}/${source} lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"[^\"]+/[^\"]+\"")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*" "\\1" header "${line}")
    string(REGEX REPLACE "/.*" "" used "${header}")
    if(used STREQUAL "llmcc")
      string(REGEX REPLACE "^llmcc/" "" name "${header}")
      set(used "")
      foreach(entry IN LISTS PUBLIC_HEADER_LAYERS)
        string(REPLACE "=" ";" pair "${entry}")
        list(GET pair 0 file)
        list(GET pair 1 owner)
        if(name STREQUAL file)
          set(used ${owner})
        endif()
      endforeach()
      if(used STREQUAL "")
        set(used "unknown public header")
      endif()
    endif()
    # The tests' helpers (tests/...) are never a dependency of src/.
    list(FIND ALLOWED "${used}" found)
    if(found EQUAL -1)
      string(APPEND violations "\n  ${source} includes \"${header}\" (layer ${used})")
    endif()
  endforeach()
endforeach()
if(violations)
  list(REMOVE_ITEM ALLOWED ${LAYER})
  list(JOIN ALLOWED ", " allowed_text)
  message(FATAL_ERROR "layer ${LAYER} may include only ${allowed_text} and itself; found:"
                      "${violations}\nMove the code to the right layer, or change its deps in "
                      "CMakeLists.txt if the layering itself should change.")
endif()
file(TOUCH ${STAMP})
