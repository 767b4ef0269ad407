-- sealift:no-transaction
DROP INDEX CONCURRENTLY orders_placed_at_idx;
DROP INDEX CONCURRENTLY orders_account_id_idx;
