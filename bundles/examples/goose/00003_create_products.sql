-- +goose Up
CREATE TABLE products (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    CONSTRAINT products_sku_key UNIQUE (sku)
);

-- +goose Down
DROP TABLE products;
