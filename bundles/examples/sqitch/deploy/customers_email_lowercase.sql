-- Deploy shop:customers_email_lowercase to pg

BEGIN;

ALTER TABLE customers ADD CONSTRAINT customers_email_lower CHECK (email = lower(email));

COMMIT;
