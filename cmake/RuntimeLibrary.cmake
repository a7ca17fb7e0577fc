# infra_runtime_library(PREFIX NAME): for a library the code opens by its
# soname when first needed (core/dynlib), sets PREFIX_SONAME and
# PREFIX_PACKAGE, the Debian package that ships it (named after the soname,
# with a hyphen when the name ends in a digit: libgit2-1.5, libzip4).
function(infra_runtime_library prefix name)
  find_library(${prefix}_LIBRARY ${name} REQUIRED)
  execute_process(COMMAND ${CMAKE_OBJDUMP} -p "${${prefix}_LIBRARY}" OUTPUT_VARIABLE headers COMMAND_ERROR_IS_FATAL ANY)
  if(NOT headers MATCHES "SONAME +(lib[^\n]+)\\.so\\.([^\n]+)")
    message(FATAL_ERROR "cannot read the soname of ${${prefix}_LIBRARY}")
  endif()
  set(base "${CMAKE_MATCH_1}")
  set(version "${CMAKE_MATCH_2}")
  set(${prefix}_SONAME "${base}.so.${version}" PARENT_SCOPE)
  if(base MATCHES "[0-9]$")
    set(${prefix}_PACKAGE "${base}-${version}" PARENT_SCOPE)
  else()
    set(${prefix}_PACKAGE "${base}${version}" PARENT_SCOPE)
  endif()
endfunction()
