UPDATE products SET price_cents = price_cents - 10 WHERE sku = 'coffee';
