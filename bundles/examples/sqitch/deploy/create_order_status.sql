-- Deploy shop:create_order_status to pg

BEGIN;

CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');

COMMIT;
