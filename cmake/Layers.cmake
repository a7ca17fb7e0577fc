# Give every layer its own include root made of symbolic links into src/,
# so that the dependency rules of the architecture are enforced by the
# compiler: core sees only core/, plugins see core/ and plugins/, the CLI
# sees everything.
set(INFRA_LAYER_ROOT ${CMAKE_BINARY_DIR}/layers)
foreach(layer core plugins cli)
  file(MAKE_DIRECTORY ${INFRA_LAYER_ROOT}/${layer})
endforeach()
function(infra_link_layer into dir)
  if(NOT EXISTS ${INFRA_LAYER_ROOT}/${into}/${dir})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${dir} ${INFRA_LAYER_ROOT}/${into}/${dir} SYMBOLIC)
  endif()
endfunction()
infra_link_layer(core core)
infra_link_layer(plugins core)
infra_link_layer(plugins plugins)
infra_link_layer(cli core)
infra_link_layer(cli plugins)
infra_link_layer(cli cli)
