// What a RocksDB store holds in memory: the parts that grow with the data unless they are
// bounded. For the benchmarks and for operators; not a precise RSS breakdown.
#pragma once

#include <cstdint>

namespace procedo {

struct StoreMemory {
  uint64_t memtables = 0;      // write buffers of every column family, not yet flushed
  uint64_t block_cache = 0;    // data (and, when cached, index and filter) blocks
  uint64_t table_readers = 0;  // index and filter blocks held outside the block cache
  uint64_t cache_entries = 0;  // entries of the store's own in-process caches
};

}  // namespace procedo
