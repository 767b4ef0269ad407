-- migrate:up
UPDATE products SET price_cents = price_cents + 10 WHERE sku = 'coffee';

-- migrate:down
UPDATE products SET price_cents = price_cents - 10 WHERE sku = 'coffee';
