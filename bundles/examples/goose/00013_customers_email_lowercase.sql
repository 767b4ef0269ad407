-- +goose Up
ALTER TABLE customers ADD CONSTRAINT customers_email_lower CHECK (email = lower(email));

-- +goose Down
ALTER TABLE customers DROP CONSTRAINT customers_email_lower;
