-- Deploy shop:customers_name_index to pg
-- requires: none; runs outside a transaction

CREATE INDEX CONCURRENTLY customers_name_idx ON customers (name);
