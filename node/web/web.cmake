# web.cmake: embeds the dashboard (node/web/*.html, *.js, *.css) into the
# tiersync binary, so a node serves it with no files to install and no
# internet access. Included by the top-level CMakeLists.txt after
# tiersync_core is defined; embed.cmake writes the generated C file.
file(GLOB TIERSYNC_WEB_FILES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/*.html ${CMAKE_CURRENT_LIST_DIR}/*.js ${CMAKE_CURRENT_LIST_DIR}/*.css)
set(TIERSYNC_WEB_C ${CMAKE_BINARY_DIR}/web/web_assets.c)
add_custom_command(
  OUTPUT ${TIERSYNC_WEB_C}
  COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${CMAKE_CURRENT_LIST_DIR} -DOUT=${TIERSYNC_WEB_C}
          -P ${CMAKE_CURRENT_LIST_DIR}/embed.cmake
  DEPENDS ${TIERSYNC_WEB_FILES} ${CMAKE_CURRENT_LIST_DIR}/embed.cmake
  COMMENT "embedding the dashboard assets")
target_sources(tiersync_core PRIVATE ${TIERSYNC_WEB_C})
