-- undo: order total function
DROP FUNCTION order_total(bigint);
