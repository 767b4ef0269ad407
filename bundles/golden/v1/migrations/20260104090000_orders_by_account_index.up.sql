-- sealift:no-transaction
-- Built without blocking writes; PostgreSQL refuses this inside a transaction.
CREATE INDEX CONCURRENTLY orders_account_id_idx ON orders (account_id);
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);
