-- Deploy shop:raise_coffee_price to pg

BEGIN;

UPDATE products SET price_cents = price_cents + 10 WHERE sku = 'coffee';

COMMIT;
