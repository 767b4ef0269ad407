-- undo: create order items
DROP TABLE order_items;
