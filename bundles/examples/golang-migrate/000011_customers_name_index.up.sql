CREATE INDEX CONCURRENTLY customers_name_idx ON customers (name);
