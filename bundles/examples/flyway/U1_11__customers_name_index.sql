-- undo: customers name index
DROP INDEX CONCURRENTLY customers_name_idx;
