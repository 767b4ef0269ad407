-- Revert shop:create_order_status from pg

BEGIN;

DROP TYPE order_status;

COMMIT;
