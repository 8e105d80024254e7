// Must NOT compile: a Filter predicate whose parameter types do not match the stream's K and V. The dsl
// CMakeLists runs the compiler on this file (test dsl_type_error_message) and checks that the error is
// the DSL's own message, not a wall of template errors.
#include <cstdint>
#include <string>

#include "eddy/dsl/dsl.h"

void Build() {
  eddy::StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("orders").Filter([](const int64_t& id, const std::string& v) { return true; });
}
