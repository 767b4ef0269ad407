--liquibase formatted sql

--changeset ana:order-summaries
CREATE VIEW order_summaries AS
    SELECT o.id, o.customer_id, o.status, order_total(o.id) AS total_cents
    FROM orders o;
--rollback DROP VIEW order_summaries;

--changeset ana:seed-products context:!test labels:seed
INSERT INTO products (sku, price_cents) VALUES
    ('tea', 450),
    ('coffee', 395),
    ('cake', 320);
--rollback DELETE FROM products WHERE sku IN ('tea', 'coffee', 'cake');

--changeset ana:customers-phone
ALTER TABLE customers ADD COLUMN phone text;
--rollback ALTER TABLE customers DROP COLUMN phone;

--changeset ana:only-on-oracle dbms:oracle
CREATE TABLE oracle_only (id number);
--rollback DROP TABLE oracle_only;
