/* Lance schema fields (lance.file.Field, flattened in pre-order) <-> cl_schema. */
#ifndef CL_PROTO_FIELDS_H
#define CL_PROTO_FIELDS_H

#include "arrow/type.h"
#include "proto/pb.h"

/* Build a schema tree from a flattened field list. `what` names the file in
 * errors. Field ids are kept. */
clance_status cl_fields_from_pb(pb_field *const *fields, size_t n, const char *what,
                                cl_schema *out, clance_error *err);

/* Flatten a schema (ids must be assigned) into newly allocated pb fields.
 * Free with cl_fields_pb_free. */
clance_status cl_fields_to_pb(const cl_schema *s, pb_field ***out, size_t *n, clance_error *err);
void cl_fields_pb_free(pb_field **fields, size_t n);

/* Schema metadata <-> map<string, bytes> entries. */
clance_status cl_meta_to_pb(const cl_meta *m, Lance__File__StringBytesEntry ***out, size_t *n,
                            clance_error *err);
clance_status cl_meta_from_pb(Lance__File__StringBytesEntry *const *e, size_t n, cl_meta *out,
                              clance_error *err);
void cl_meta_pb_free(Lance__File__StringBytesEntry **e, size_t n);

#endif
