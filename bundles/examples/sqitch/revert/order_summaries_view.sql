-- Revert shop:order_summaries_view from pg

BEGIN;

DROP VIEW order_summaries;

COMMIT;
