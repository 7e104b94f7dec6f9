// Marks the declarations libcrowdrt.so exports; everything else in the library stays private.
#pragma once

#define CROWDRT_API __attribute__((visibility("default")))
