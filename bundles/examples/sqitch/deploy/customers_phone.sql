-- Deploy shop:customers_phone to pg

BEGIN;

ALTER TABLE customers ADD COLUMN phone text;

COMMIT;
