-- +goose Up
ALTER TABLE customers ADD COLUMN phone text;

-- +goose Down
ALTER TABLE customers DROP COLUMN phone;
