-- undo: create orders
DROP TABLE orders;
