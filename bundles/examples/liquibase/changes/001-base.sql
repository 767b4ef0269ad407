--liquibase formatted sql

--changeset ana:order-status
--comment: the status of an order
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
--rollback DROP TYPE order_status;

--changeset ana:customers
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
--rollback DROP TABLE customers;

--changeset ana:products
CREATE TABLE products (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    CONSTRAINT products_sku_key UNIQUE (sku)
);
--rollback DROP TABLE products;
