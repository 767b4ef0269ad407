-- migrate:up
CREATE VIEW order_summaries AS
    SELECT o.id, o.customer_id, o.status, order_total(o.id) AS total_cents
    FROM orders o;

-- migrate:down
DROP VIEW order_summaries;
