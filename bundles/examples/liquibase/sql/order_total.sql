CREATE FUNCTION order_total(p_order bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(oi.quantity * p.price_cents), 0)
    FROM order_items oi JOIN products p ON p.id = oi.product_id
    WHERE oi.order_id = p_order;
$$
