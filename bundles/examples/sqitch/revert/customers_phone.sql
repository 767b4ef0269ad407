-- Revert shop:customers_phone from pg

BEGIN;

ALTER TABLE customers DROP COLUMN phone;

COMMIT;
