# perf.cmake: the performance bench of issue 8 (bench/run drives it; see
# bench/README.md). Included from bench/CMakeLists.txt. Tools only: nothing
# here asserts a timing. The two ctests below are smoke tests: one checks
# the load generator against a real district; the other a 30-second soak.
find_package(Threads REQUIRED)

add_executable(bench_ceilings ${CMAKE_CURRENT_SOURCE_DIR}/ceilings.c)
target_link_libraries(bench_ceilings PRIVATE PkgConfig::DEPS Threads::Threads)

add_library(bench_cellpool STATIC ${CMAKE_CURRENT_SOURCE_DIR}/cellpool.c)
target_link_libraries(bench_cellpool PUBLIC tiersync_core)
target_include_directories(bench_cellpool PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})

add_executable(loadgen ${CMAKE_CURRENT_SOURCE_DIR}/loadgen.c ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_run.c)
target_link_libraries(loadgen PRIVATE bench_cellpool)

add_executable(bench_probe ${CMAKE_CURRENT_SOURCE_DIR}/probe.c)
target_link_libraries(bench_probe PRIVATE bench_cellpool)

if(BUILD_TESTING)
  add_test(NAME bench_smoke_loadgen
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/smoke_loadgen.sh)
  set_tests_properties(bench_smoke_loadgen PROPERTIES
    ENVIRONMENT "TIERSYNC_BIN=$<TARGET_FILE:tiersync>;LOADGEN=$<TARGET_FILE:loadgen>;TIERSYNC_CATALOG=${CMAKE_SOURCE_DIR}/catalog/drug-treatment.json;TIERSYNC_SOURCE=${CMAKE_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    TIMEOUT 300 LABELS integration SKIP_RETURN_CODE 77)
  add_test(NAME bench_smoke_soak COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/smoke_soak.sh)
  set_tests_properties(bench_smoke_soak PROPERTIES
    ENVIRONMENT "TIERSYNC_BIN=$<TARGET_FILE:tiersync>;TIERSYNC_BUILD=${CMAKE_BINARY_DIR};TIERSYNC_CATALOG=${CMAKE_SOURCE_DIR}/catalog/drug-treatment.json;TIERSYNC_SOURCE=${CMAKE_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    TIMEOUT 300 LABELS integration SKIP_RETURN_CODE 77)
endif()
