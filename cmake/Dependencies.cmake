# Interface targets for the libraries that the portable binary links
# statically. With AICLOUDCTL_STATIC=ON the archives that Debian ships are
# used directly (libssh.a, libyaml-cpp.a, libssl.a, libcrypto.a, libz.a) and
# libssh's GSSAPI part pulls in libgssapi_krb5.so.2 dynamically; with OFF the
# shared libraries are used (sanitizer builds, quick local builds).

add_library(aicloud_yaml INTERFACE)
add_library(aicloud_ssh INTERFACE)
add_library(aicloud_crypto INTERFACE)

if(AICLOUDCTL_STATIC)
  find_library(AICLOUD_YAML_A NAMES libyaml-cpp.a REQUIRED)
  find_library(AICLOUD_SSH_A NAMES libssh.a REQUIRED)
  find_library(AICLOUD_SSL_A NAMES libssl.a REQUIRED)
  find_library(AICLOUD_CRYPTO_A NAMES libcrypto.a REQUIRED)
  find_library(AICLOUD_Z_A NAMES libz.a REQUIRED)
  find_library(AICLOUD_GSSAPI NAMES gssapi_krb5 REQUIRED)
  get_target_property(_yaml_inc yaml-cpp INTERFACE_INCLUDE_DIRECTORIES)
  if(_yaml_inc)
    target_include_directories(aicloud_yaml SYSTEM INTERFACE ${_yaml_inc})
  endif()
  target_link_libraries(aicloud_yaml INTERFACE ${AICLOUD_YAML_A})
  target_link_libraries(aicloud_crypto INTERFACE ${AICLOUD_SSL_A} ${AICLOUD_CRYPTO_A} ${AICLOUD_Z_A} ${CMAKE_DL_LIBS} Threads::Threads)
  # The archives libssh.a needs are named again after it (not through
  # aicloud_crypto, which CMake would emit only once, before libssh.a).
  target_link_libraries(aicloud_ssh INTERFACE ${AICLOUD_SSH_A} ${AICLOUD_SSL_A} ${AICLOUD_CRYPTO_A} ${AICLOUD_Z_A}
                        ${AICLOUD_GSSAPI} ${CMAKE_DL_LIBS} Threads::Threads)
  # libssh.a was built as part of a shared build; tell its headers not to
  # expect dllimport-style visibility (harmless on ELF, required by the docs).
  target_compile_definitions(aicloud_ssh INTERFACE LIBSSH_STATIC=1)
else()
  find_package(libssh REQUIRED)
  target_link_libraries(aicloud_yaml INTERFACE yaml-cpp)
  target_link_libraries(aicloud_crypto INTERFACE OpenSSL::SSL OpenSSL::Crypto ZLIB::ZLIB ${CMAKE_DL_LIBS} Threads::Threads)
  target_link_libraries(aicloud_ssh INTERFACE ssh aicloud_crypto)
endif()
add_library(aicloud::yaml ALIAS aicloud_yaml)
add_library(aicloud::ssh ALIAS aicloud_ssh)
add_library(aicloud::crypto ALIAS aicloud_crypto)
