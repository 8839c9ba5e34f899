ok 1 - growing into the free gap stays in place (0x40000000 -> 0x40000000)
ok 2 - the old pages keep their data, the new ones read as zeros
ok 3 - growing into a mapped neighbour without MREMAP_MAYMOVE is ENOMEM
ok 4 - with MREMAP_MAYMOVE it moves (0x40000000 -> 0x40009000)
ok 5 - the moved mapping has the old data and all 16 pages
ok 6 - the old range is unmapped, the neighbour is untouched
ok 7 - MREMAP_FIXED moves to the requested address
ok 8 - contents moved with it, the source is gone
ok 9 - MREMAP_FIXED without MREMAP_MAYMOVE is EINVAL
ok 10 - shrinking keeps the start and unmaps the tail
ok 11 - an unaligned old address is EINVAL
ok 12 # SKIP MREMAP_DONTUNMAP not supported by this kernel
1..12
