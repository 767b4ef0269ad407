-- Verify shop:order_total_function on pg

BEGIN;

SELECT has_function_privilege('order_total(bigint)', 'execute');

ROLLBACK;
