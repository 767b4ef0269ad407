-- migrate:up
ALTER TABLE customers ADD COLUMN phone text;

-- migrate:down
ALTER TABLE customers DROP COLUMN phone;
