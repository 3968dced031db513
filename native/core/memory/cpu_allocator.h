// LibTorch's CPU allocator for this process, replaced by one that hands tensors of 64 KiB and more the blocks of
// core/memory/pages.h (whole pages; from 1 MiB 2 MiB-aligned, huge-page-advised memory), kept for reuse while a native
// job runs (and 3 s after), so a training loop's activations, gradients and optimizer temporaries come back to the
// same memory every step instead of being unmapped by malloc and faulted in afresh. Measured on this project's 2-core
// VM before it: 20 steps of CBR-LargeW (batch 16, 40 px) took 3.7 to 5.7 s depending on whether glibc's arena for the
// job's thread kept its memory (up to ~300,000 page faults, 2 s of system time); PyTorch from Python pays the same.
// Torch-free header.
#pragma once

namespace tn {

// Installs the allocator (once; later calls do nothing) unless TRANSFUSION_CPU_CACHE=0, which leaves LibTorch's own.
// Tensors made before keep the allocator that made them.
void installCpuAllocator();
// Whether ours is in place (after installCpuAllocator()).
bool cpuAllocatorInstalled();

}  // namespace tn
