-- Revert shop:customers_name_index from pg

DROP INDEX CONCURRENTLY customers_name_idx;
