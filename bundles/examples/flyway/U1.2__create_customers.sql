-- undo: create customers
DROP TABLE customers;
