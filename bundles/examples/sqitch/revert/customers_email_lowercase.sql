-- Revert shop:customers_email_lowercase from pg

BEGIN;

ALTER TABLE customers DROP CONSTRAINT customers_email_lower;

COMMIT;
