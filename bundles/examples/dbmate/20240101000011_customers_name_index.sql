-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY customers_name_idx ON customers (name);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY customers_name_idx;
