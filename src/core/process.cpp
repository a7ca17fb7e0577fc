#include "core/process.hpp"

#include <malloc.h>

namespace infra::core::process {

void retain_heap()
{
    ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
    ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

}  // namespace infra::core::process
