-- migrate:up
ALTER TABLE customers ADD CONSTRAINT customers_email_lower CHECK (email = lower(email));

-- migrate:down
ALTER TABLE customers DROP CONSTRAINT customers_email_lower;
