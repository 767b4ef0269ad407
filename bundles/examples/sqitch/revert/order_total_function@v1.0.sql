-- Revert shop:order_total_function from pg

BEGIN;

DROP FUNCTION order_total(bigint);

COMMIT;
