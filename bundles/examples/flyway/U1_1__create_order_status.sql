-- undo: create order status enum
DROP TYPE order_status;
