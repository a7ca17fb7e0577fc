#pragma once
// Settings that belong to a whole process, applied by the commands that
// own one (worker, and the long-running commands to come).

namespace infra::core::process {

/// Keeps freed heap memory in the process instead of handing it back to
/// the kernel after every transaction. SQLite frees and reallocates page
/// cache memory as transactions begin; with glibc's default trim threshold
/// that memory goes back to the kernel each time, and the page faults that
/// follow cost more than the durable commit itself. Up to 128 MiB of free
/// heap is kept, and blocks under 4 MiB come from the heap.
void retain_heap();

}  // namespace infra::core::process
