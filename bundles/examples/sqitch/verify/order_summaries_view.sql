-- Verify shop:order_summaries_view on pg

BEGIN;

SELECT id, customer_id, status, total_cents FROM order_summaries WHERE FALSE;

ROLLBACK;
