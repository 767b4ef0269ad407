-- undo: create products
DROP TABLE products;
