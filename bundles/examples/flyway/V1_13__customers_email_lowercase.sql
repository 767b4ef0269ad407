-- customers email lowercase
ALTER TABLE customers ADD CONSTRAINT customers_email_lower CHECK (email = lower(email));
