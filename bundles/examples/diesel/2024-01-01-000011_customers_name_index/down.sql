DROP INDEX CONCURRENTLY customers_name_idx;
