-- Revert shop:seed_products from pg

BEGIN;

DELETE FROM products WHERE sku IN ('tea', 'coffee', 'cake');

COMMIT;
