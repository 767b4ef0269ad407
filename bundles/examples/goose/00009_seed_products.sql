-- +goose Up
INSERT INTO products (sku, price_cents) VALUES
    ('tea', 450),
    ('coffee', 395),
    ('cake', 320);

-- +goose Down
DELETE FROM products WHERE sku IN ('tea', 'coffee', 'cake');
