# Small helpers so that each folder's CMakeLists.txt stays a few lines long.

# aicloud_library(NAME SOURCES... [DEPS targets...] [CUDA_SOURCES ...])
# Declares the static library aicloud_<NAME> (alias aicloud::<NAME>) whose
# public headers are included as "<NAME>/header.hpp" from the repository root.
function(aicloud_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;CUDA_SOURCES" ${ARGN})
  set(_srcs ${A_SOURCES})
  if(AICLOUDCTL_HAVE_CUDA)
    list(APPEND _srcs ${A_CUDA_SOURCES})
  endif()
  add_library(aicloud_${name} STATIC ${_srcs})
  add_library(aicloud::${name} ALIAS aicloud_${name})
  target_include_directories(aicloud_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(aicloud_${name} PUBLIC aicloud_options ${A_DEPS})
  if(AICLOUDCTL_HAVE_CUDA AND A_CUDA_SOURCES)
    set_target_properties(aicloud_${name} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
    target_compile_options(aicloud_${name} PRIVATE
      $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall --expt-relaxed-constexpr>)
  endif()
endfunction()

# aicloud_unit_tests(NAME SOURCES... DEPS ...)
# One doctest executable per library (tests/unit/<lib>/), each TEST_CASE
# registered with CTest individually and labelled "unit".
function(aicloud_unit_tests name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(test_${name} ${A_SOURCES})
  target_link_libraries(test_${name} PRIVATE aicloud_test_main ${A_DEPS})
  target_compile_definitions(test_${name} PRIVATE
    AICLOUD_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    AICLOUD_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(_labels unit ${A_LABELS})
  # A name that doctest's filter cannot match (CTest splits names at ';')
  # would run no case and pass: fail such a test instead.
  doctest_discover_tests(test_${name}
    TEST_PREFIX "${name}: "
    PROPERTIES LABELS "${_labels}" FAIL_REGULAR_EXPRESSION "test cases: 0 [|]"
    ADD_LABELS 0)
endfunction()

# aicloud_embed(TARGET VAR FILES...)
# Compiles text files (profiles, playbooks, schemas) into the binary so the
# portable executable needs nothing beside it. Generates a .cpp with
#   const std::vector<aicloud::EmbeddedFile>& VAR();
function(aicloud_embed target var)
  set(_out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${var}.cpp)
  set(_files ${ARGN})
  add_custom_command(OUTPUT ${_out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${_out} -DVAR=${var} -DROOT=${PROJECT_SOURCE_DIR}
            "-DFILES=${_files}" -P ${PROJECT_SOURCE_DIR}/cmake/Embed.cmake
    DEPENDS ${_files} ${PROJECT_SOURCE_DIR}/cmake/Embed.cmake
    COMMENT "Embedding ${var}"
    VERBATIM)
  target_sources(${target} PRIVATE ${_out})
endfunction()
