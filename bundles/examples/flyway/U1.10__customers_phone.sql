-- undo: customers phone
ALTER TABLE customers DROP COLUMN phone;
