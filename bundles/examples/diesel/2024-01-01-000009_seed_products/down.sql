DELETE FROM products WHERE sku IN ('tea', 'coffee', 'cake');
