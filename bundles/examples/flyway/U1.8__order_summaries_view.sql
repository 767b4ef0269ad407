-- undo: order summaries view
DROP VIEW order_summaries;
