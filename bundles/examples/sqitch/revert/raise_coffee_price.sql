-- Revert shop:raise_coffee_price from pg

BEGIN;

UPDATE products SET price_cents = price_cents - 10 WHERE sku = 'coffee';

COMMIT;
