-- Verify shop:create_products on pg

BEGIN;

SELECT id, sku, price_cents FROM products WHERE FALSE;

ROLLBACK;
