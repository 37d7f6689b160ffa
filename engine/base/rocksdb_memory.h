// Private to engine/: what bounds the memory of the log's and the views' RocksDB databases, and
// StoreMemory from their properties.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <memory>

#include <set>
#include <vector>

#include "engine/base/store_memory.h"

namespace procedo {

inline constexpr size_t kLogBlockCacheBytes = 32 << 20;
inline constexpr size_t kViewBlockCacheBytes = 64 << 20;

// Index and filter blocks charged to `cache` (RocksDB otherwise keeps every table's in memory,
// outside any bound, so they grow with the data on disk), partitioned so that a bounded cache
// holds the partitions in use while the small top level stays pinned.
inline rocksdb::BlockBasedTableOptions BoundedTableOptions(std::shared_ptr<rocksdb::Cache> cache,
                                                           bool bloom) {
  rocksdb::BlockBasedTableOptions t;
  if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.block_cache = std::move(cache);
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = bloom;
  t.pin_top_level_index_and_filter = true;
  return t;
}

inline StoreMemory MeasureRocksDb(rocksdb::DB& db,
                                  const std::vector<rocksdb::ColumnFamilyHandle*>& cfs) {
  StoreMemory m;
  std::set<const rocksdb::Cache*> caches;  // column families may share one
  for (auto* cf : cfs) {
    uint64_t v = 0;
    if (db.GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) m.memtables += v;
    if (db.GetIntProperty(cf, "rocksdb.estimate-table-readers-mem", &v)) m.table_readers += v;
    rocksdb::ColumnFamilyDescriptor desc;
    if (!cf->GetDescriptor(&desc).ok() || !desc.options.table_factory) continue;
    const auto* t = desc.options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
    if (t != nullptr && t->block_cache && caches.insert(t->block_cache.get()).second) {
      m.block_cache += t->block_cache->GetUsage();
    }
  }
  return m;
}

}  // namespace procedo
