-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY customers_name_idx ON customers (name);

-- +goose Down
DROP INDEX CONCURRENTLY customers_name_idx;
