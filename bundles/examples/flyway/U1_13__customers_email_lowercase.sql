-- undo: customers email lowercase
ALTER TABLE customers DROP CONSTRAINT customers_email_lower;
