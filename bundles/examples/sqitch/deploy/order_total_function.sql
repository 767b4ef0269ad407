-- Deploy shop:order_total_function to pg
-- Multiply as bigint, so that large orders cannot overflow integer.

BEGIN;

CREATE OR REPLACE FUNCTION order_total(p_order bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(oi.quantity::bigint * p.price_cents), 0)
    FROM order_items oi JOIN products p ON p.id = oi.product_id
    WHERE oi.order_id = p_order;
$$;

COMMIT;
