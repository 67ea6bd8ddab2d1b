/* Protobuf messages clance decodes from files: the first byte picks one. */
#include "proto/pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const descriptors[] = {
    &lance__table__transaction__descriptor,      &lance__table__manifest__descriptor,
    &lance__encodings21__page_layout__descriptor, &lance__encodings__array_encoding__descriptor,
    &lance__file__v2__column_metadata__descriptor, &lance__file__file_descriptor__descriptor,
    &lance__table__index_section__descriptor,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const ProtobufCMessageDescriptor *d = descriptors[data[0] % (sizeof descriptors / sizeof *descriptors)];
  clance_error err;
  ProtobufCMessage *m;
  if (cl_pb_unpack(d, data + 1, size - 1, "fuzz", &m, &err) == CLANCE_OK) {
    cl_buf out = CL_BUF_INIT;
    (void)cl_pb_pack(m, &out, &err);
    cl_buf_free(&out);
    protobuf_c_message_free_unpacked(m, NULL);
  }
  return 0;
}
