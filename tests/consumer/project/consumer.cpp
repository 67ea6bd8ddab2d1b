// The public header compiles as C++ (-std=c++11 -pedantic -Werror) and links.
#include <clance/clance.h>

#include <cstdio>
#include <cstring>

int main() {
  clance_error err;
  struct ArrowSchema schema;
  if (clance_schema_parse("a:int32,b:string", &schema, &err) != CLANCE_OK) {
    std::fprintf(stderr, "consumer_cxx: %s\n", err.message);
    return 1;
  }
  const bool two = schema.n_children == 2;
  schema.release(&schema);
  clance_status st = clance_schema_parse("a:nosuchtype", &schema, &err);
  if (!two || st != CLANCE_EINVAL || std::strcmp(clance_status_name(st), "EINVAL") != 0) {
    std::fprintf(stderr, "consumer_cxx: unexpected results\n");
    return 1;
  }
  std::printf("consumer_cxx: ok (clance %s)\n", clance_version());
  return 0;
}
